"""The vocabulary of the synthetic funnel: names, titles, industries, countries, domains, content.

Every table here is plain data; the generator modules sample from them with numpy. Each table
carries the *hidden* effect its value has on a lead's propensity to buy (a log-odds contribution),
so the ground truth (``truth.csv``) can name what drives a lead and by how much.
"""

from __future__ import annotations

from typing import NamedTuple

# -- Geography ------------------------------------------------------------------------------------


class Country(NamedTuple):
    code: str
    region: str
    weight: float  # share of leads
    effect: float  # log-odds of winning (sales coverage, buying power, currency)
    tld: str  # business domain suffix
    names: str  # name pool key (NAMES)
    free: tuple[tuple[str, float], ...]  # local free mailbox providers, on top of FREE_GLOBAL


COUNTRIES: tuple[Country, ...] = (
    Country("US", "NA", 0.45, 0.30, ".com", "anglo", (("comcast.net", 0.03), ("att.net", 0.02))),
    Country("CA", "NA", 0.05, 0.25, ".ca", "anglo", (("rogers.com", 0.04), ("shaw.ca", 0.03))),
    Country("GB", "EMEA", 0.10, 0.25, ".co.uk", "anglo", (("btinternet.com", 0.05),)),
    Country("DE", "EMEA", 0.07, 0.20, ".de", "german", (("gmx.de", 0.15), ("web.de", 0.15))),
    Country("FR", "EMEA", 0.05, 0.00, ".fr", "french", (("orange.fr", 0.10), ("free.fr", 0.08))),
    Country("NL", "EMEA", 0.03, 0.05, ".nl", "german", (("ziggo.nl", 0.05),)),
    Country("ES", "EMEA", 0.03, -0.15, ".es", "spanish", (("yahoo.es", 0.08),)),
    Country("IT", "EMEA", 0.02, -0.15, ".it", "spanish", (("libero.it", 0.10),)),
    Country("SE", "EMEA", 0.02, 0.05, ".se", "german", ()),
    Country("IN", "APAC", 0.09, -0.55, ".in", "indian", (("rediffmail.com", 0.08),)),
    Country("AU", "APAC", 0.04, 0.10, ".com.au", "anglo", (("bigpond.com", 0.06),)),
    Country("SG", "APAC", 0.02, 0.00, ".sg", "anglo", ()),
    Country("JP", "APAC", 0.02, -0.30, ".jp", "anglo", (("yahoo.co.jp", 0.15),)),
    Country("BR", "LATAM", 0.05, -0.45, ".com.br", "portuguese", (("uol.com.br", 0.08),)),
    Country("MX", "LATAM", 0.02, -0.40, ".mx", "spanish", ()),
)

# Global free mailbox providers and their share among free addresses; all are in
# leadgate.model.free_email.FREE_EMAIL_DOMAINS (a test checks it).
FREE_GLOBAL: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.62),
    ("yahoo.com", 0.10),
    ("hotmail.com", 0.08),
    ("outlook.com", 0.08),
    ("icloud.com", 0.05),
    ("aol.com", 0.02),
    ("protonmail.com", 0.02),
)

# -- Companies ------------------------------------------------------------------------------------


class Industry(NamedTuple):
    name: str
    weight: float  # share of business accounts
    effect: float  # log-odds: how well the product fits the industry
    words: tuple[str, ...]  # second word of company names


INDUSTRIES: tuple[Industry, ...] = (
    Industry("software", 0.26, 0.60, ("Software", "Cloud", "Labs", "Systems", "AI", "Data")),
    Industry("fintech", 0.10, 0.50, ("Pay", "Capital", "Ledger", "Finance", "Money")),
    Industry("healthcare", 0.10, 0.40, ("Health", "Care", "Medical", "Bio", "Clinics")),
    Industry("insurance", 0.04, 0.25, ("Insurance", "Assurance", "Mutual")),
    Industry("telecom", 0.03, 0.15, ("Telecom", "Networks", "Wireless")),
    Industry("professional services", 0.09, 0.10, ("Consulting", "Partners", "Advisory")),
    Industry("manufacturing", 0.11, 0.00, ("Industries", "Manufacturing", "Works", "Components")),
    Industry("logistics", 0.05, -0.05, ("Logistics", "Freight", "Shipping")),
    Industry("energy", 0.03, 0.05, ("Energy", "Power", "Solar")),
    Industry("media", 0.06, -0.10, ("Media", "Studios", "Publishing")),
    Industry("retail", 0.09, -0.20, ("Retail", "Stores", "Brands", "Goods")),
    Industry("education", 0.04, -0.60, ("Learning", "Academy", "Education")),
    Industry("government", 0.04, -0.50, ("Agency", "Authority", "Council")),
    Industry("nonprofit", 0.03, -0.80, ("Foundation", "Trust", "Alliance")),
)

COMPANY_WORDS: tuple[str, ...] = (
    "Acme", "Apex", "Arcadia", "Atlas", "Aurora", "Beacon", "Birch", "Blue", "Bolt", "Bright",
    "Cedar", "Cinder", "Clear", "Cobalt", "Comet", "Copper", "Crest", "Delta", "Drift", "Echo",
    "Ember", "Everest", "Falcon", "Fern", "Flux", "Forge", "Frontier", "Glacier", "Granite",
    "Harbor", "Helix", "Horizon", "Indigo", "Iron", "Juniper", "Keystone", "Kite", "Lantern",
    "Lumen", "Maple", "Meridian", "Mesa", "Nimbus", "Noble", "North", "Nova", "Oak", "Onyx",
    "Orbit", "Pacific", "Peak", "Pine", "Pioneer", "Prism", "Quartz", "Quill", "Radiant", "Raven",
    "Redwood", "Ridge", "River", "Sage", "Sierra", "Silver", "Sparrow", "Spruce", "Stellar",
    "Stone", "Summit", "Swift", "Terra", "Thistle", "Tidal", "Timber", "True", "Union", "Vale",
    "Vanguard", "Vector", "Verde", "Vista", "Willow", "Zenith", "Zephyr",
)  # fmt: skip

# Company sizes: a log-normal body with a Pareto-like tail, clipped to 1..100k employees.
SIZE_LOG_MEAN = 4.6  # median ~ 100 employees
SIZE_LOG_SD = 1.9
SIZE_MAX = 100_000

# Log-odds of winning by company size (upper bounds of the bands, exclusive): tiny companies
# cannot afford the product, very large ones buy slowly and through procurement.
SIZE_BANDS: tuple[tuple[int, float], ...] = (
    (10, -1.30),
    (50, -0.70),
    (200, -0.10),
    (1000, 0.50),
    (5000, 0.45),
    (20000, 0.20),
    (SIZE_MAX + 1, 0.00),
)

UNIVERSITY_WORDS: tuple[str, ...] = (
    "Northfield", "Westbrook", "Lakeside", "Hillcrest", "Riverside", "Eastgate", "Fairview",
    "Greenwood", "Highland", "Kingsbridge", "Oakridge", "Stanmore", "Brookhaven", "Clearwater",
    "Ashford", "Bayview",
)  # fmt: skip

# Universities hold the student leads; their e-mail suffix follows the country (only US ones end
# in ".edu", so a model's '\.edu$' rule misses some students, as in real data).
UNIVERSITY_SUFFIX: dict[str, str] = {
    "US": ".edu", "CA": ".ca", "GB": ".ac.uk", "AU": ".edu.au", "IN": ".ac.in", "DE": ".de",
}  # fmt: skip

COMPETITOR = {"company": "Rival", "domain": "rival.io", "industry": "software", "size": 420}

# -- People ---------------------------------------------------------------------------------------

NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "anglo": (
        ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
         "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
         "Sarah", "Chris", "Karen", "Daniel", "Emily", "Matthew", "Olivia", "Anthony", "Emma",
         "Mark", "Sophie", "Steven", "Grace", "Andrew", "Chloe", "Kevin", "Megan", "Brian", "Laura",
         "Wei", "Priya", "Omar", "Aisha", "Carlos", "Mei"),
        ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
         "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
         "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
         "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Chen", "Nguyen", "Patel",
         "Kim", "Garcia", "Lee", "Murphy", "Kelly"),
    ),
    "german": (
        ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Hannah", "Leon", "Laura", "Paul", "Julia",
         "Max", "Sophie", "Jan", "Lena", "Tim", "Sara", "Niklas", "Katharina", "Erik", "Emma"),
        ("Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "de Vries", "Jansen", "Berg",
         "Lindqvist"),
    ),
    "french": (
        ("Louis", "Camille", "Hugo", "Manon", "Lucas", "Chloe", "Jules", "Ines", "Arthur", "Lea",
         "Nathan", "Juliette", "Thomas", "Claire", "Antoine", "Marie"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
         "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Fournier"),
    ),
    "indian": (
        ("Aarav", "Priya", "Vivaan", "Ananya", "Aditya", "Diya", "Arjun", "Isha", "Rohan", "Kavya",
         "Rahul", "Sneha", "Vikram", "Pooja", "Karthik", "Neha"),
        ("Sharma", "Verma", "Patel", "Gupta", "Reddy", "Iyer", "Nair", "Singh", "Kumar", "Rao",
         "Mehta", "Joshi", "Menon", "Das", "Chatterjee", "Bose"),
    ),
    "portuguese": (
        ("Joao", "Maria", "Pedro", "Ana", "Lucas", "Julia", "Gabriel", "Beatriz", "Rafael",
         "Larissa", "Mateus", "Camila", "Felipe", "Fernanda"),
        ("Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida",
         "Nascimento", "Lima", "Araujo", "Ferreira", "Carvalho", "Gomes"),
    ),
    "spanish": (
        ("Alejandro", "Lucia", "Pablo", "Sofia", "Javier", "Martina", "Diego", "Paula", "Marco",
         "Giulia", "Luis", "Elena", "Andrea", "Carmen", "Mateo", "Valentina"),
        ("Garcia", "Fernandez", "Lopez", "Martinez", "Sanchez", "Perez", "Gomez", "Rossi", "Russo",
         "Ferrari", "Esposito", "Romano", "Hernandez", "Diaz", "Moreno", "Ruiz"),
    ),
}  # fmt: skip

DEPARTMENTS: tuple[str, ...] = (
    "marketing", "sales", "revenue operations", "engineering", "it", "data", "product",
    "finance", "operations", "customer success", "hr",
)  # fmt: skip
# How likely a department is to care about the product (a revenue tool): log-odds.
DEPARTMENT_EFFECT: dict[str, float] = {
    "marketing": 0.35, "sales": 0.25, "revenue operations": 0.55, "engineering": -0.15,
    "it": 0.0, "data": 0.10, "product": 0.05, "finance": -0.10, "operations": -0.05,
    "customer success": -0.05, "hr": -0.60, "executive": 0.0, "academic": 0.0,
}  # fmt: skip
DEPARTMENT_WEIGHTS: tuple[float, ...] = (
    0.20, 0.15, 0.06, 0.16, 0.10, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03,
)  # fmt: skip
DEPT_LABEL: dict[str, str] = {
    "marketing": "Marketing", "sales": "Sales", "revenue operations": "Revenue Operations",
    "engineering": "Engineering", "it": "IT", "data": "Data", "product": "Product",
    "finance": "Finance", "operations": "Operations", "customer success": "Customer Success",
    "hr": "People",
}  # fmt: skip


class Seniority(NamedTuple):
    name: str
    effect: float  # log-odds: buying power of the role
    patterns: tuple[str, ...]  # title templates; {d} is the department label


SENIORITIES: tuple[Seniority, ...] = (
    Seniority("c_level", 0.50, ("CEO", "Co-Founder & CEO", "Founder", "COO", "CTO", "CFO", "CMO",
                                "Chief Marketing Officer", "Chief Revenue Officer", "President")),
    Seniority("vp", 0.90, ("VP of {d}", "VP {d}", "Vice President, {d}", "SVP {d}")),
    Seniority("director", 0.80, ("Director of {d}", "{d} Director", "Senior Director, {d}",
                                 "Managing Director")),
    Seniority("head_of", 0.75, ("Head of {d}", "Global Head of {d}")),
    Seniority("manager", 0.30, ("{d} Manager", "Senior {d} Manager", "{d} Team Lead")),
    Seniority("individual_contributor", -0.50, ("{d} Specialist", "{d} Analyst",
                                                "Senior {d} Associate", "{d} Coordinator",
                                                "{d} Engineer", "{d} Consultant")),
    Seniority("intern", -2.00, ("{d} Intern", "Summer Intern, {d}", "Working Student")),
    Seniority("student", -3.00, ("Student", "MBA Candidate", "Graduate Student", "PhD Student",
                                 "Undergraduate")),
)  # fmt: skip
# Share of seniorities among business leads, for small (< 200) and larger companies.
SENIORITY_WEIGHTS_SMALL: tuple[float, ...] = (0.14, 0.08, 0.12, 0.10, 0.22, 0.30, 0.04, 0.0)
SENIORITY_WEIGHTS_LARGE: tuple[float, ...] = (0.02, 0.10, 0.17, 0.10, 0.26, 0.31, 0.04, 0.0)

# -- Channels -------------------------------------------------------------------------------------


class Channel(NamedTuple):
    name: str
    weight: float  # share of new leads
    effect: float  # log-odds: how qualified the channel's leads are
    intent: float  # shift of the latent intent (engagement) of its leads
    free_email: float  # share of free addresses
    bad_data: float  # share of unusable contact data


CHANNELS: tuple[Channel, ...] = (
    Channel("inbound_content", 0.30, 0.45, 0.35, 0.22, 0.02),
    Channel("paid_search", 0.20, 0.05, 0.15, 0.20, 0.03),
    Channel("referral", 0.07, 0.95, 0.70, 0.08, 0.01),
    Channel("webinar", 0.13, 0.30, 0.30, 0.18, 0.02),
    Channel("events", 0.10, 0.10, -0.05, 0.10, 0.08),
    Channel("cold_list", 0.20, -0.95, -0.90, 0.02, 0.12),
)

# -- Content and web --------------------------------------------------------------------------------

ASSETS: tuple[str, ...] = (
    "ebook-lead-scoring-playbook", "whitepaper-mql-to-sql-benchmarks", "report-state-of-revops-2026",
    "guide-intent-data-101", "template-sla-marketing-sales", "checklist-crm-hygiene",
    "case-study-fintech-pipeline", "case-study-healthcare-routing", "ebook-abm-for-beginners",
    "whitepaper-attribution-models", "report-b2b-buyer-survey", "toolkit-webinar-planning",
)  # fmt: skip
WEBINAR_TOPICS: tuple[str, ...] = (
    "pipeline-forecasting", "lead-scoring-live", "abm-roundtable", "revops-metrics",
    "product-tour", "customer-panel",
)  # fmt: skip

# Pages seen while researching (blog, docs, careers) and while buying (pricing, product, demo).
RESEARCH_URLS: tuple[tuple[str, float], ...] = (
    ("/", 0.14), ("/blog/lead-scoring-basics", 0.12), ("/blog/mql-vs-sql", 0.10),
    ("/blog/intent-signals", 0.08), ("/blog/revops-stack", 0.07), ("/blog/email-benchmarks", 0.06),
    ("/docs/getting-started", 0.08), ("/docs/api", 0.06), ("/docs/integrations/salesforce", 0.05),
    ("/resources", 0.08), ("/careers", 0.05), ("/about", 0.04), ("/events", 0.03),
)  # fmt: skip
BUYING_URLS: tuple[tuple[str, float], ...] = (
    ("/pricing", 0.40), ("/product", 0.20), ("/product/scoring", 0.10),
    ("/product/routing", 0.08), ("/customers", 0.10), ("/integrations", 0.08),
    ("/security", 0.06), ("/compare/rival", 0.04), ("/demo", 0.04),
)  # fmt: skip
# Where a web session came from (the event's ``channel`` property).
SESSION_CHANNELS: tuple[tuple[str, float], ...] = (
    ("organic_search", 0.36), ("direct", 0.24), ("paid_search", 0.14), ("social", 0.08),
    ("referral", 0.06), ("email", 0.12),
)  # fmt: skip

EVENT_TYPES: tuple[str, ...] = (
    "email_open", "email_click", "content_download", "webinar_registered", "webinar_attended",
    "page_view", "demo_request", "form_submit", "unsubscribe",
)  # fmt: skip

REJECT_REASONS: tuple[str, ...] = (
    "wrong_title", "wrong_company_size", "wrong_industry", "no_intent", "bad_contact_data",
    "duplicate", "competitor", "student", "already_in_pipeline",
)  # fmt: skip


def normalised(weights: tuple[float, ...] | list[float]) -> list[float]:
    """Weights scaled to sum to 1 (numpy's ``choice`` insists on an exact distribution)."""
    total = float(sum(weights))
    return [w / total for w in weights]
