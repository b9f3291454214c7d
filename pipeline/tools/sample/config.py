"""The sample's fixed settings: file names, defaults, channels and the shares that shape the mix."""
from __future__ import annotations

from datetime import UTC, datetime

CUSTOMERS_FILE = "customers.jsonl.gz"
MENTIONS_FILE = "mentions.jsonl.gz"
DEFAULT_SEED = 7
DEFAULT_CUSTOMERS = 3000
DEFAULT_MENTIONS = 30000
DEFAULT_DAYS = 5
DEFAULT_START = datetime(2026, 11, 16, tzinfo=UTC)

SOCIAL_CHANNELS = ("twitter", "facebook", "instagram", "reviews")
MAIL_CHANNELS = ("email", "support")
CHANNELS = SOCIAL_CHANNELS + MAIL_CHANNELS
ID_PREFIX = {"twitter": "tw", "facebook": "fb", "instagram": "ig", "reviews": "rv", "email": "em", "support": "sp"}
CHANNEL_SHARE = {"twitter": 0.36, "facebook": 0.13, "instagram": 0.13, "reviews": 0.08, "email": 0.12, "support": 0.18}
PRIOR_ACTION = {"twitter": "tweeted you", "facebook": "messaged you on Facebook",
                "instagram": "commented on your Instagram", "reviews": "left a review",
                "email": "e-mailed you", "support": "opened a support ticket"}
INTENTS = ("complaint", "praise", "question", "neutral", "negative_other")
KNOWN_AUTHOR_SHARE = 0.60
NON_ENGLISH_SHARE = 0.02
DUPLICATE_SHARE = 0.005
JUNK_SHARE = 0.01          # of the lines; ~60 % broken records, ~40 % lines that are not a JSON object at all
SPIKE_FACTOR = 10.0        # complaints in the spike hour ≈ this × the brand's usual complaints in that hour
EMAIL_DOMAINS = ("example.com", "example.org", "mail.test")
# UTC hour-of-day activity (Europe + Americas audience): quiet nights, busy afternoons/evenings.
HOUR_WEIGHTS = (0.45, 0.35, 0.28, 0.22, 0.20, 0.25, 0.40, 0.65, 0.90, 1.05, 1.15, 1.20,
                1.25, 1.30, 1.30, 1.30, 1.35, 1.40, 1.45, 1.40, 1.30, 1.10, 0.85, 0.60)
