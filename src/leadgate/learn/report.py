"""The fit report as Markdown: what was learned, what was dropped and why, how well it ranks."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_fmt(v).replace("|", "\\|") for v in r) + " |" for r in rows]
    return [*out, ""]


def render_markdown(report: dict[str, Any], table: list[dict[str, Any]]) -> str:
    """The report page written beside the model (MODEL.report.md)."""
    sc, ceiling, data = report["scorecard"], report["ceiling"], report["data"]
    lines = [
        f"# Learned scorecard: {report['model']['name']} v{report['model']['version']} "
        f"({report['model']['hash']})",
        "",
        f"Learned from {report['source']}: {data['rows']} leads with a known outcome, "
        f"{data['positives']} positive. Split: {data['split']}, {data['train_rows']} training / "
        f"{data['test_rows']} held-out rows.",
        "",
        *[f"- {n}" for n in data["notes"]],
        "",
        "## Held-out results",
        "",
        *_table(
            ["model", "ROC AUC", "threshold", "MQL rate", "precision", "recall"],
            [
                [
                    "scorecard (this model, scored by the engine)",
                    sc["auc"],
                    sc["threshold"],
                    sc["mql_rate"],
                    sc["precision"],
                    sc["recall"],
                ],
                [
                    "gradient-boosted ceiling",
                    ceiling["auc"],
                    ceiling["threshold"],
                    ceiling["mql_rate"],
                    ceiling["precision"],
                    ceiling["recall"],
                ],
            ],
        ),
        f"AUC gap to the ceiling: **{report['auc_gap']:.4f}** (training AUC of the scorecard: "
        f"{report['scorecard_train_auc']}).",
        "",
        "### Lift by decile (decile 1 = highest totals)",
        "",
        *_table(
            ["decile", "rows", "positives", "rate", "lift"],
            [
                [d["decile"], d["rows"], d["positives"], d["rate"], d["lift"]]
                for d in sc["lift_by_decile"]
            ],
        ),
        "### Calibration (predicted probability from the points vs observed rate)",
        "",
        *_table(
            ["rows", "predicted range", "mean predicted", "observed"],
            [
                [
                    c["rows"],
                    f"{c['predicted_low']:.3f}-{c['predicted_high']:.3f}",
                    c["predicted"],
                    c["observed"],
                ]
                for c in sc.get("calibration", [])
            ],
        ),
    ]
    s = report["scaling"]
    lines += [
        "## Scaling",
        "",
        f"Scorecard score = {s['base']:.1f} + total. A score of {s['base_score']:g} means odds of "
        f"{s['base_odds']:g}:1 for the outcome; every {s['pdo']:g} points double the odds "
        f"(factor {s['factor']:.3f}, offset {s['offset']:.2f}). The MQL threshold of "
        f"{report['threshold']['points']:g} points (chosen by {report['threshold']['method']} on "
        f"the {report['threshold']['chosen_on']}) is a scorecard score of {s['threshold_score']:g}.",
        "",
    ]
    if report.get("hybrid"):
        h = report["hybrid"]
        lines += [
            "## Hybrid",
            "",
            f"Rules of {h['base_model']} plus a `predictive` dimension of {h['predictive_rules']} "
            f"rules. Threshold {h['old_threshold']:g} -> {h['threshold']:g} (segments shifted by "
            f"{h['threshold_shift']:g}). Training AUC: rules only {h['train_auc_rules_only']}, "
            f"hybrid {h['train_auc_hybrid']}; held-out AUC of the hybrid total "
            f"{h.get('held_out', {}).get('auc')}.",
            "",
        ]
    lines += ["## Interactions", ""]
    if report.get("interactions"):
        lines += [
            f"Pairwise rules on top of the features' own points ({report['rules']} rules of at "
            f"most {report['max_rules']}). Support: training rows in both sides; lift: their "
            "outcome rate over the rate the model without the rule predicted.",
            "",
        ]
        lines += _table(
            ["rule", "points", "support", "share", "positives", "rate", "predicted", "lift"],
            [[it["rule"], it["points"], it["support"], it["support_share"], it["positives"],
              it["rate"], it["predicted_rate"], it["lift"]] for it in report["interactions"]],
        )  # fmt: skip
    else:
        lines += ["No pair of attributes adds enough beyond their own points (or no rule budget "
                  "was left).", ""]  # fmt: skip
    lines += ["## Leakage guard", ""]
    if report["leaks"]:
        lines += _table(
            ["feature", "single-feature AUC", "dropped", "why"],
            [[lk["feature"], lk["auc"], "yes" if lk["dropped"] else "no (--force)", lk["reason"]]
             for lk in report["leaks"]],
        )  # fmt: skip
    else:
        lines += ["No column predicts the outcome suspiciously well on its own.", ""]
    lines += ["## Features", ""]
    lines += _table(
        ["feature", "kind", "dimension", "IV", "selected", "coefficient", "note"],
        [[f["feature"], f["kind"], f["dimension"], f["iv"], "yes" if f["selected"] else "",
          f["coefficient"], f["reason"]] for f in report["features"]],
    )  # fmt: skip
    if report["dropped_columns"]:
        lines += ["Columns not used as features:", ""]
        lines += [f"- `{d['column']}`: {d['reason']}" for d in report["dropped_columns"]] + [""]
    lines += ["## Scorecard table", ""]
    lines += _table(
        ["feature", "bin", "rows", "rate", "WoE", "points"],
        [[r["feature"], r["bin"] + (" (reference)" if r["reference"] else ""), r["count"],
          r["event_rate"], r["woe"], r["points"]] for r in table],
    )  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"
