"""Reporting: the funnel frame and everything measured on it (funnel, quality, rejections,
speed-to-lead, model comparison), threshold calibration, the funnel-targets calculator and charts.

Every report takes a *funnel frame* (``report/frame.py``): one row per MQL cycle (and one per lead
that never became an MQL), built from files or from the store. Reports never read files or
databases themselves.
"""

from __future__ import annotations
