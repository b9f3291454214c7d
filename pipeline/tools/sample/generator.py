"""Seeded synthetic sample data: a fictional CRM and a few days of mentions of four fictional brands.

Used by `socialpulse demo`, the benchmark and the tests. Everything comes from one `random.Random(seed)`, so the same
seed gives byte-identical files (`scripts/make_sample.py` regenerates the shipped copy in `pipeline/data/sample/`).

What is in it (defaults: seed 7, 3,000 customers, 30,000 mentions over 5 days from 2026-11-16 UTC):

* customers — tiers standard/gold/platinum (~80/15/5 %), log-normal lifetime values per tier, 1–2 e-mail addresses
  on reserved domains only (example.com, example.org, mail.test), handles on 2–4 of twitter/facebook/instagram/reviews
  (some in mixed case or with a leading `@`), follower counts for most, a few influencers (50k–2M followers);
* mentions — brands Aerolux (airline), NimbusMobile (telecom), Quickcart (e-commerce), Brewly (coffee) on twitter,
  facebook, instagram, reviews, email and support; ~60 % by known customers (handles and e-mails sometimes in another
  case, with/without `@`), ~40 % by unknown authors (prospects, a few of them influencers); praise, questions, neutral
  posts, complaints (direct, polite, sarcastic; ~30 %), negative posts that are not complaints (weather, news);
  repeat complainers and cross-channel complainers (tweet first, then e-mail/support), a complaint spike (a
  NimbusMobile outage: ~10× the brand's normal complaint volume within one hour on day 4), ~2 % Spanish/French/German,
  ~0.5 % exact duplicate deliveries and ~1 % junk lines (not JSON, invalid UTF-8, missing fields, wrong types) for the
  dead-letter path.

`mentions` counts the distinct valid mentions; the mentions file holds those plus the duplicates and the junk lines.
The intent each mention was generated from (its "ground truth") is available in memory from `build_sample`.
"""
from __future__ import annotations

from pipeline.data import sample_dir  # noqa: F401 - where the generated files are shipped

import gzip
import io
import json
import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any, Callable, Iterator, Optional

import msgspec

from pipeline.contract.records import Customer, IdentityRef

__all__ = [
    "BRANDS", "CUSTOMERS_FILE", "MENTIONS_FILE", "DEFAULT_SEED", "DEFAULT_START", "Sample", "SampleSummary",
    "BrandSummary", "SpikeSummary", "build_sample", "generate_customers", "generate_mentions", "write_sample",
    "sample_dir", "iter_lines",
]

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


# --------------------------------------------------------------------------------------------------- vocabulary
@dataclass(frozen=True)
class Issue:
    """One kind of complaint, in the phrasings the templates need. Placeholders are filled per case."""

    key: str
    clause: tuple[str, ...]      # "my bag didn't arrive with {flight}"  (after "Hi @brand, ...")
    sarcasm: tuple[str, ...]     # "losing my bag"                       (after "Thanks @brand for ...")
    noun: str                    # "my lost bag"                         (follow-ups: "still no news about ...")
    subject: str                 # e-mail subject
    formal: str                  # e-mail / ticket sentence
    direct: tuple[str, ...] = ()  # complete angry posts
    weight: float = 1.0


@dataclass(frozen=True)
class Brand:
    name: str
    handle: str
    sector: str
    share: float
    complaint_bias: float        # multiplies the complaint weight of the channel's intent mix
    tags: tuple[str, ...]
    emoji: tuple[str, ...]
    issues: tuple[Issue, ...]
    praise: tuple[str, ...]      # "the crew on {flight} were amazing"
    questions: tuple[str, ...]   # "what's the carry-on allowance for economy light?"
    neutral: tuple[str, ...]     # complete posts


BRANDS: tuple[Brand, ...] = (
    Brand(
        name="Aerolux", handle="aerolux", sector="airline", share=0.30, complaint_bias=1.10,
        tags=("#Aerolux", "#travel", "#avgeek", "#flying"), emoji=("✈️", "🛫", "🧳", "🌍"),
        issues=(
            Issue("delay", ("flight {flight} is delayed {hours} hours and nobody tells us anything",
                            "we've been sitting on the tarmac in {city} for {hours} hours with no information"),
                  ("the {hours}-hour delay on {flight}", "another {hours} hours at the gate in {city}"),
                  "my delayed flight {flight}", "Delay of flight {flight}",
                  "Flight {flight} from {city} on {date} was delayed by {hours} hours and I missed my connection.",
                  ("{h} {hours} hours delay on {flight} and zero updates. Stuck at the gate in {city} 😡",
                   "Delayed AGAIN {h}. {flight} still not boarding. #delayed")),
            Issue("lost_bag", ("my bag didn't arrive with {flight}", "my suitcase has been missing for three days"),
                  ("losing my bag", "losing my luggage on {flight}"),
                  "my lost bag", "Lost baggage on flight {flight}",
                  "My checked suitcase did not arrive with flight {flight} from {city} on {date}. "
                  "The baggage reference is {ref}.",
                  ("{h} lost my luggage on {flight}. Nobody at the desk in {city} knows anything.",
                   "3 days without my suitcase {h}. WHERE IS MY BAG?")),
            Issue("refund", ("I'm still waiting for the refund for my cancelled flight {flight}",
                             "you still haven't refunded the {cur}{amount} for {flight}"),
                  ("keeping my money for a flight you cancelled", "the refund that never arrives"),
                  "my refund for {flight}", "Refund for cancelled flight {flight}",
                  "Flight {flight} on {date} was cancelled and the refund of {cur}{amount} has still not been paid."),
            Issue("cancelled", ("{flight} got cancelled last minute and there is no rebooking option",
                                "you cancelled my flight to {city} with two hours notice"),
                  ("cancelling {flight} with a two-line email", "cancelling my flight to {city} at the last minute"),
                  "my cancelled flight", "Cancelled flight {flight}",
                  "Flight {flight} to {city} on {date} was cancelled at short notice and no alternative was offered."),
            Issue("on_hold", ("I've been on hold for an hour trying to change my booking",
                              "I've called three times and waited over an hour each time"),
                  ("an hour of hold music", "the hour-long hold music"),
                  "my booking change", "Unable to reach customer service",
                  "I have tried to reach your call centre three times about booking {ref} and each time waited "
                  "more than an hour on hold."),
            Issue("app", ("the check-in in your app keeps crashing", "your app says my booking {ref} doesn't exist"),
                  ("an app that crashes at check-in",),
                  "the broken check-in", "Online check-in not working",
                  "Online check-in for booking {ref} fails with an error every time I try."),
            Issue("seat", ("I paid for extra legroom and got moved to a middle seat at the back",),
                  ("charging me for a seat I didn't get",),
                  "my seat refund", "Paid seat not provided on {flight}",
                  "I paid {cur}{amount} for an extra-legroom seat on {flight} on {date} and was moved to a standard "
                  "seat without explanation.", weight=0.6),
        ),
        praise=("the crew on {flight} were amazing", "smooth flight and we landed early in {city}",
                "got upgraded on {flight}, thank you", "they found the phone I left on board",
                "the lounge in {city} is lovely", "check-in took two minutes"),
        questions=("what's the carry-on allowance for economy light?", "can I change flight {flight} online?",
                   "do you fly to {city} in winter?", "is there wifi on the {city} route?",
                   "can I bring my dog in the cabin?", "when does online check-in open?"),
        neutral=("Boarding {flight} to {city} with {h} ✈️", "Heading to {city} tomorrow on {h}",
                 "Aerolux adds a new route to {city} {news_url}", "Window seat on {h} today",
                 "Back in {city}. {h} flight was on time", "Anyone flown {h} business class?"),
    ),
    Brand(
        name="NimbusMobile", handle="nimbusmobile", sector="telecom", share=0.28, complaint_bias=1.15,
        tags=("#NimbusMobile", "#5G", "#mobile", "#telecom"), emoji=("📱", "📶", "☎️", "🛜"),
        issues=(
            Issue("no_signal", ("I have no signal at all in {city} since this morning",
                                "there's zero coverage at my house in {city}"),
                  ("zero bars in the middle of {city}", "the amazing 'coverage' in {city}"),
                  "the signal problem", "No mobile signal at home",
                  "Since {date} I have had no mobile signal at my address in {city}.",
                  ("{h} no signal in {city} AGAIN. What am I paying for? 📵",)),
            Issue("charged_twice", ("you charged me twice for this month's bill",
                                    "my card was charged twice for the same invoice"),
                  ("charging me twice this month",),
                  "the double charge", "Charged twice for my bill",
                  "My account was charged twice ({cur}{amount} each) for the October invoice.",
                  ("{h} charged me twice this month. I want my money back.",)),
            Issue("roaming", ("I got {cur}{amount} in roaming charges even though my plan includes EU roaming",),
                  ("the surprise {cur}{amount} roaming bill",),
                  "the roaming charges", "Incorrect roaming charges",
                  "My latest invoice includes {cur}{amount} in roaming charges although my plan includes EU roaming."),
            Issue("on_hold", ("I've been on hold for over an hour", "your support line hung up on me after 50 minutes"),
                  ("an hour on hold", "hanging up on me after 50 minutes on hold"),
                  "my support request", "Cannot reach support",
                  "I have been trying to reach your support line for two days and was on hold for more than an "
                  "hour each time.",
                  ("On hold with {h} for 70 minutes now. This is a joke.",)),
            Issue("app", ("the Nimbus app won't let me log in", "the app keeps logging me out"),
                  ("an app that logs me out every five minutes",),
                  "my account login", "Cannot log in to the app",
                  "I cannot log in to the app; it shows error {code}."),
            Issue("dropped_calls", ("every call drops after two minutes", "my calls keep dropping"),
                  ("dropping every single call",),
                  "the dropped calls", "Calls keep dropping",
                  "Since {date} every call I make drops after one or two minutes."),
            Issue("porting", ("my number transfer has been stuck for a week",),
                  ("a week-long number transfer",),
                  "my number transfer", "Number porting stuck",
                  "I requested to port my number on {date} and it is still not done (ref {ref}).", weight=0.6),
            Issue("outage", ("mobile data and calls are down in {city}", "there's no service in {city} right now"),
                  ("the surprise outage",),
                  "the outage", "Service outage",
                  "Since about {time} today I cannot make calls or use mobile data in {city}.", weight=0.3),
        ),
        praise=("5G is blazing fast in {city}", "support fixed my roaming issue in five minutes",
                "I finally have coverage on the train", "the new unlimited plan is great value",
                "switching my number took ten minutes", "the eSIM setup was super easy"),
        questions=("does the unlimited plan include EU roaming?", "how do I activate an eSIM on a new phone?",
                   "is 5G available in {city} yet?", "when does the new phone deal start?",
                   "can I add a second line to my plan?", "how do I check my data usage?"),
        neutral=("Switched to {h} last week, let's see how it goes", "NimbusMobile announces 5G expansion in {city} "
                 "{news_url}", "Got my new phone from {h} today 📱", "Thinking about moving to {h}. Any experiences?",
                 "{h} store in {city} is busy today"),
    ),
    Brand(
        name="Quickcart", handle="quickcart", sector="e-commerce", share=0.24, complaint_bias=1.00,
        tags=("#Quickcart", "#shopping", "#BlackFriday", "#delivery"), emoji=("📦", "🛒", "🚚", "💳"),
        issues=(
            Issue("late", ("my order {order} was due on {weekday} and still hasn't arrived",
                  "my package is a week late"),
                  ("'next-day' delivery that takes a week",),
                  "order {order}", "Order {order} not delivered",
                  "Order {order} was due on {date} and has not been delivered.",
                  ("{h} where is my order {order}?? A week late and tracking hasn't moved.",)),
            Issue("missing", ("tracking says delivered but there's no package",
                              "the driver marked my order as delivered and left nothing"),
                  ("delivering my package to an invisible doorstep",),
                  "my missing package", "Package marked delivered but not received",
                  "Order {order} is marked as delivered on {date}, but I never received it."),
            Issue("wrong_item", ("I ordered a {item} and got a phone case", "you sent me the wrong item again"),
                  ("sending me the wrong item again",),
                  "the wrong item", "Wrong item received for order {order}",
                  "I ordered a {item} (order {order}) and received a different product."),
            Issue("refund", ("my refund for order {order} still hasn't come through after two weeks",),
                  ("taking two weeks to refund {cur}{amount}",),
                  "my refund", "Refund for order {order}",
                  "I returned order {order} on {date} and have not received the refund of {cur}{amount}."),
            Issue("charged_twice", ("I was charged twice for order {order}",),
                  ("charging my card twice",),
                  "the double charge", "Charged twice for order {order}",
                  "My card was charged twice for order {order} ({cur}{amount})."),
            Issue("app", ("the app crashes every time I try to check out", "I can't pay in the app, it just freezes"),
                  ("an app that crashes at checkout",),
                  "the checkout bug", "App crashes at checkout",
                  "The app crashes at checkout every time I try to pay (error {code})."),
            Issue("damaged", ("my {item} arrived smashed", "the {item} I ordered arrived broken"),
                  ("the box that looked like it was kicked all the way here",),
                  "the damaged {item}", "Damaged item in order {order}",
                  "The {item} in order {order} arrived damaged.", weight=0.7),
        ),
        praise=("next-day delivery was actually next day", "my refund was processed in 24 hours",
                "the driver was super friendly", "the {item} arrived early and well packed",
                "returns are so easy", "customer service sorted my issue in minutes"),
        questions=("do you deliver to {city} on Sundays?", "how long do returns take?",
                   "can I change the delivery address for order {order}?",
                   "is the Black Friday sale starting early this year?", "do you ship to Canada?",
                   "can I pay with a gift card in the app?"),
        neutral=("Just ordered a {item} from {h}", "Quickcart opens a new warehouse near {city} {news_url}",
                 "Waiting for my {h} delivery 📦", "{h} Black Friday deals are out {news_url}",
                 "Comparing prices on {h} vs the store"),
    ),
    Brand(
        name="Brewly", handle="brewly", sector="coffee", share=0.18, complaint_bias=0.70,
        tags=("#Brewly", "#coffee", "#latte", "#coffeetime"), emoji=("☕", "🥐", "🍂", "🧋"),
        issues=(
            Issue("cold", ("my {drink} was cold when I got it", "my {drink} was lukewarm again"),
                  ("the ice-cold {drink}", "serving my {drink} cold again"),
                  "my cold {drink}", "Cold drink at the {city} store",
                  "On {date} my {drink} at your {city} store was served cold.",
                  ("{h} cold coffee AGAIN at the {city} store. Not paying {cur}5 for this.",)),
            Issue("wrong_order", ("I asked for oat milk and got dairy, and I'm lactose intolerant",
                                  "my order was wrong for the third time this week"),
                  ("ignoring the oat milk on my order",),
                  "my wrong order", "Wrong order at the {city} store",
                  "I ordered a {drink} with oat milk at the {city} store and was served dairy milk, although I am "
                  "lactose intolerant."),
            Issue("app_order", ("my app order wasn't ready 20 minutes after the pickup time",
                                "the app took my money but the store never got the order"),
                  ("the 20-minute wait for a mobile order",),
                  "my mobile order", "Mobile order not prepared",
                  "My mobile order on {date} was paid but never prepared at the {city} store."),
            Issue("points", ("my loyalty points disappeared from the app",),
                  ("wiping my loyalty points",),
                  "my missing points", "Loyalty points missing",
                  "My loyalty points balance dropped to zero on {date} without any purchase."),
            Issue("charged_twice", ("the app charged me twice for one {drink}",),
                  ("charging me twice for one {drink}",),
                  "the double charge", "Charged twice in the app",
                  "The app charged my card twice ({cur}{amount}) for a single order on {date}."),
            Issue("closed", ("the {city} store was closed at 8am even though the app says it's open",),
                  ("closing the store whenever you like",),
                  "the store hours", "Store closed during opening hours",
                  "The {city} store was closed at 8am on {date} although it is listed as open.", weight=0.6),
            Issue("queue", ("I waited 25 minutes in line with only one barista working",),
                  ("a 25-minute queue for one coffee",),
                  "the queue", "Very long wait at the {city} store",
                  "On {date} I waited 25 minutes at the {city} store because only one barista was working."),
        ),
        praise=("best flat white in {city}", "the new pumpkin spice latte is delicious",
                "the barista remembered my name", "my app order was ready the second I walked in",
                "the {city} store is so cosy", "the free refill made my morning"),
        questions=("do all stores have oat milk?", "what time does the {city} store open on Sundays?",
                   "is the holiday menu out yet?", "can I use loyalty points in the app?",
                   "do you have a decaf {drink}?", "are your cups recyclable?"),
        neutral=("Morning {drink} from {h} ☕", "Meeting at the {h} on {street} at 10",
                 "Brewly launches its holiday menu {news_url}", "Working from {h} today",
                 "{h} or the place next door? Decisions"),
    ),
)
SPIKE_BRAND = "NimbusMobile"
_BRAND_BY_NAME = {b.name: b for b in BRANDS}

DIRECT_FRAMES = (
    "{h} {clause}. Absolutely unacceptable.", "Seriously {h}? {Clause}. Worst customer service ever",
    "{Clause} and nobody at {h} seems to care.", "{h} {clause}. Fix this.",
    "{Clause}. Really disappointed in you {h}", "Hey {h}, {clause}!! What is going on?",
    "{h} {clause}. Not happy.", "So {clause}. Thanks for nothing {h}",
)
SARCASTIC_FRAMES = (
    "Thanks {h} for {sarcasm} again. Really made my day 🙃", "Wow {h}, {sarcasm}. Great job as always 👏",
    "Love how {h} keeps surprising me. This time: {sarcasm}. Truly world class.",
    "Nothing like {sarcasm} to start the day. Cheers {h}", "Shoutout to {h} for {sarcasm}. Amazing service, really.",
    "{h} never disappoints: {sarcasm}. 10/10",
)
POLITE_FRAMES = (
    "Hi {h}, {clause}. Could you please look into it? Thanks",
    "Hello {h} - {clause}. Would really appreciate some help 🙏",
    "{h} hi, sorry to bother you but {clause}. Any update?",
    "Hi {h}, hope you're well. Unfortunately {clause}. Can someone DM me?", "Dear {h}, {clause}. What are my options?",
)
COMPLAINT_EXTRAS = (
    "I've been a customer for {years} years.", "Nobody answers the phone.", "Your chatbot is useless.", "Do better.",
    "Never again.", "Not the first time either.", "Still waiting for a reply.", "This is ridiculous.",
)
FOLLOWUP_FRAMES = (
    "{h} still no news about {noun}. This is day {day}.",
    "Contacting {h} for the {nth} time about {noun}. Nobody answers.",
    "{h} it's been {since} and still nothing on {noun}. Ref {ref}.", "Again: {noun}. {h} why is this so hard?",
    "{h} I'm still waiting on {noun}. Please respond.",
    "Day {day} of chasing {h} about {noun}. Getting really frustrated.",
)
CROSS_FOLLOWUP_FRAMES = (
    "{h} I already {prior_action} {ago} about {noun}. Still nothing.",
    "{h} {prior_action} {ago} about {noun}, no answer. Trying here now.",
    "Hey {h}, {prior_action} {ago} and nobody got back to me about {noun}. Seriously?",
)
PRAISE_FRAMES = (
    "Shoutout to {h}, {praise} 👏", "{h} you guys are great, {praise}!", "Really impressed with {h} today. {Praise}.",
    "Big thanks to {h}: {praise}", "Honestly {h} never disappoints. {Praise} ❤️", "{Praise}. Well done {h}!",
    "Love {h}! {Praise}.",
)
QUESTION_FRAMES = ("{h} {question}", "Quick question {h}: {question}", "Hey {h}, {question}",
                   "Does anyone know? {Question} {h}")
GENERIC_NEUTRAL = ("Anyone tried {h}?", "Thinking about switching to {h}", "{h} 👀", "Saw the new {h} ad on TV today")
NEGATIVE_OTHER = (
    "Awful weather in {city} again 🌧️ staying in today {h}",
    "Sad news from {city} today. Thinking of everyone affected.",
    "So tired of all the bad news lately. Anyway, heading to {city} with {h}.",
    "My phone died, my umbrella broke and I missed the bus. Terrible day. Not even {h} can fix this 😂",
    "Why is the traffic in {city} so horrible every single morning", "Our team lost again last night 😭 {h} cheer me up",
    "Hated the movie last night. Worst two hours of my life.", "Not complaining {h}, just sad my holiday is over 😢",
    "Monday again. I hate Mondays. {h}", "Stuck in the rain without an umbrella. Miserable. #{city_tag}",
)
REVIEW_COMPLAINT = ("{Clause}. Customer service was useless. Avoid {brand}.",
                    "One star. {Clause} and nobody from {brand} responded.",
                    "Used to like {brand} but {clause}. Very disappointed.", "{Clause}. {Extra}")
REVIEW_PRAISE = ("Great experience with {brand}: {praise}.", "Five stars. {Praise}!",
                 "{Praise}. Will use {brand} again.",
                 "Very happy with {brand}, {praise}.")
REVIEW_NEUTRAL = ("Okay experience overall. Nothing special.", "Average. {brand} is fine for the price.",
                  "Does the job. Some good, some bad.", "Three stars: {question_plain}")
EMAIL_GREETINGS = ("Hello {brand} team,", "Dear {brand} customer service,", "Hi,", "To whom it may concern,", "Hello,")
EMAIL_REQUESTS = ("Could you please look into this and get back to me?",
                  "I would like this resolved as soon as possible.",
                  "Please refund me.", "Please let me know how you are going to fix this.",
                  "I expect a reply within 48 hours.")
EMAIL_SIGNOFFS = ("Kind regards,", "Best,", "Thanks,", "Regards,", "Best regards,")
EMAIL_NEUTRAL = ("Could you send me a copy of my last invoice?", "I'd like to update the phone number on my account.",
                 "Please unsubscribe me from the newsletter.", "Please update the delivery address on my account.",
                 "Can you confirm my booking reference {ref}?", "I'd like to close my account at the end of the month.")
SPIKE_TEXTS = (
    "Is {h} down? No calls, no data in {city} #outage",
    "{h} no service in {city} for {mins} minutes now. What's going on?",
    "Anyone else with {h} having no signal right now? #NimbusDown", "{h} my whole office just lost connection. Fix it!",
    "{h} down again?! Working from home is impossible today 😡",
    "Great timing {h}, network down in the middle of my client call 🙃",
    "{h} outage in {city}. Can't even call my kids. Unacceptable.", "No bars, no data, no updates. Come on {h}",
    "{h} status page says everything is fine. It is NOT fine.", "{h} is there an outage? My phone says 'SOS only'",
    "{h} {mins} minutes without service and not a single word from you. Pathetic.",
)
SPIKE_FOREIGN = {
    "es": ("{h} sin señal en {city} desde hace media hora #caída",
    "{h} ¿está caída la red? No tengo ni datos ni llamadas"),
    "fr": ("{h} plus de réseau à {city} depuis 30 minutes, c'est quoi le problème ?",),
    "de": ("{h} kein Netz in {city}. Was ist los?", "{h} seit {mins} Minuten kein Empfang. Unmöglich!"),
}
FOREIGN = {
    "es": {
        "complaint": ("{h} pésimo servicio, llevo una hora esperando y nadie me ayuda 😡",
                      "{h} me cobraron dos veces este mes. ¿Quién me devuelve el dinero?",
                      "Otra vez sin respuesta de {h}. Qué desastre.",
                      "{h} tres días esperando mi reembolso. Inaceptable."),
        "praise": ("Gracias {h}, ¡excelente servicio! 👏", "Me encanta {h}, todo perfecto.",
                   "{h} muy buena atención hoy, gracias 🙌"),
        "question": ("{h} ¿tienen atención al cliente en español?", "{h} ¿a qué hora abren mañana?"),
    },
    "fr": {
        "complaint": ("{h} toujours aucune réponse, c'est inadmissible.",
        "{h} j'ai été débité deux fois, remboursez-moi svp",
                      "Service client de {h} injoignable depuis ce matin 😤",
                      "{h} une heure d'attente au téléphone, sérieusement ?"),
        "praise": ("Merci {h}, service impeccable !", "Super expérience avec {h} aujourd'hui 😊",
        "{h} rapide et efficace, bravo"),
        "question": ("{h} est-ce que le service client est ouvert le dimanche ?",
        "{h} vous avez une appli en français ?"),
    },
    "de": {
        "complaint": ("{h} seit einer Stunde in der Warteschleife. Unglaublich.",
                      "{h} zweimal abgebucht und keine Antwort. Sehr ärgerlich!",
                      "Schon wieder Probleme mit {h}. Echt enttäuschend.",
                      "{h} seit drei Tagen warte ich auf eine Antwort."),
        "praise": ("Danke {h}, super Service!", "Alles bestens mit {h} heute 👍",
        "{h} schnell und freundlich, gerne wieder"),
        "question": ("{h} gibt es einen Kundenservice auf Deutsch?", "{h} wann öffnet ihr morgen?"),
    },
}
INTENT_EMOJI = {"complaint": ("😡", "😤", "🙄", "😠", "👎", "🤬", "😩"), "praise": ("❤️", "🙌", "😍", "👏", "🔥", "😊", "💯"),
                "question": ("🤔", "🙏", "❓"), "neutral": ("🙂", "👀", "📸"), "negative_other": ("😢", "😭", "🌧️", "😩")}
INTENT_TAGS = {"complaint": ("#fail", "#customerservice", "#disappointed", "#worst"), "praise": ("#love", "#happy",
               "#thankyou"),
               "question": ("#help",), "neutral": ("#today", "#weekend"), "negative_other": ("#mondays", "#ugh")}

FIRST_NAMES = (
    "Sarah", "James", "Maria", "David", "Aisha", "Liam", "Emma", "Noah", "Olivia", "Lucas", "Mia", "Ethan", "Sofia",
    "Mateo", "Chloé", "Hiroshi", "Priya", "Kwame", "Fatima", "Oliver", "Isabella", "Jonas", "Elena", "Ravi", "Grace",
    "Daniel", "Amelia", "Yusuf", "Hannah", "Leo", "Zoë", "Samuel", "Ava", "Mohammed", "Nora", "Felix", "Lena", "Omar",
    "Julia", "Tomás", "Ingrid", "Chen", "Mei", "Arjun", "Layla", "Kai", "Freya", "Diego", "Camila", "Björn", "Anya",
    "Hugo", "Clara", "Adam", "Nadia", "Ben", "Lily", "Marco", "Eva", "Tariq", "Rosa", "Finn", "Yara", "Max", "Alice",
    "José", "Ines", "Victor", "Leila", "Owen", "Sienna", "Pablo", "Renée", "Theo", "Maya", "Aaron", "Ruth", "Ivan",
)
LAST_NAMES = (
    "Kim", "Smith", "Garcia", "Müller", "Okafor", "Nguyen", "Rossi", "Patel", "Johansson", "Dubois", "Silva", "Novak",
    "Tanaka", "Khan", "Brown", "Wilson", "Martin", "Lopez", "Schmidt", "Cohen", "Murphy", "Kowalski", "Haddad", "Ali",
    "Jensen", "Fischer", "Moreau", "Costa", "Ivanova", "Chen", "Singh", "Mensah", "Walsh", "Bauer", "Romero", "Lee",
    "Andersen", "Weber", "Fernandes", "Yilmaz", "Park", "Hughes", "Berg", "Russo", "Santos", "Dimitrov", "Clarke",
    "O'Brien", "Nakamura", "Ortega", "Price", "Hall", "Mwangi", "Petrov", "Larsen", "Gomez", "Shah", "Evans", "Sato",
    "Bianchi", "Wright", "Lindqvist", "Torres", "Adeyemi", "Reyes", "Kaur", "Hoffmann", "Ferrari", "Young", "Diaz",
)
HANDLE_WORDS = ("coffee", "travel", "tech", "foodie", "runner", "gamer", "photo", "city", "daily", "real", "its",
                "the", "just", "hey", "urban", "wander", "bookish", "green", "night", "sunny")
CITIES = ("Lisbon", "Berlin", "Madrid", "Dublin", "Toronto", "Austin", "Lyon", "Milan", "Oslo", "Prague", "Seattle",
          "Denver", "Porto", "Vienna", "Zurich", "Glasgow", "Rotterdam", "Valencia", "Munich", "Boston")
ITEMS = ("blender", "pair of headphones", "winter jacket", "coffee grinder", "phone charger", "yoga mat", "desk lamp",
         "kids' bike", "Lego set", "air fryer", "rain jacket", "board game")
DRINKS = ("latte", "flat white", "cappuccino", "mocha", "chai latte", "americano", "pumpkin spice latte",
          "hot chocolate")
STREETS = ("Main Street", "Station Road", "Harbour Street", "Market Square", "Park Lane", "Church Street")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


# ------------------------------------------------------------------------------------------------- summary types
class BrandSummary(msgspec.Struct, kw_only=True):
    mentions: int
    complaints: int


class SpikeSummary(msgspec.Struct, kw_only=True):
    brand: str
    start: str                   # hour window [start, end)
    end: str
    mentions: int                # the brand's mentions in the window
    complaints: int              # of which complaints (generated intent)
    baseline_complaints: float   # mean complaints of the brand in the same hour on the other days
    ratio: float                 # complaints / baseline


class SampleSummary(msgspec.Struct, kw_only=True):
    """Counts of a sample: `mentions` are distinct valid mentions, `lines` = mentions + duplicates + junk."""

    seed: int
    start: str
    days: int
    customers: int
    customers_by_tier: dict[str, int]
    influencer_customers: int
    mentions: int
    lines: int
    junk: int
    duplicates: int
    complaints: int
    intents: dict[str, int]
    per_brand: dict[str, BrandSummary]
    per_channel: dict[str, int]
    known_author_mentions: int
    unknown_author_mentions: int
    non_english: int
    repeat_complainers: int          # customers with ≥ 2 complaints about one brand
    cross_channel_complainers: int   # customers who complained about one brand on ≥ 2 channels
    spike: Optional[SpikeSummary] = None
    files: dict[str, int] = {}       # file name → bytes (filled by write_sample)


@dataclass
class Sample:
    """A generated sample in memory: the file lines plus what each mention was generated as (ground truth)."""

    customers: list[Customer]
    customer_lines: list[bytes]
    mention_lines: list[bytes]
    junk_lines: list[int]                   # indexes into mention_lines
    duplicate_lines: list[int]              # indexes of the repeated deliveries (the second copy)
    intents: dict[str, str]                 # "<channel>:<id>" → one of INTENTS
    authors: dict[str, Optional[str]]       # "<channel>:<id>" → customer_id of a known author, None for unknown
    summary: SampleSummary


# ---------------------------------------------------------------------------------------------------- helpers
def _slug(text: str) -> str:
    """`Chloé O'Brien` → `chloeobrien` (ASCII letters and digits only)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(5, int(hours * 60))} minutes ago"
    if hours < 20:
        return f"{int(hours)} hours ago" if hours >= 2 else "an hour ago"
    if hours < 44:
        return "yesterday"
    return f"{int(hours // 24)} days ago"


def _since(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{max(1, int(hours))} hours" if hours < 48 else f"{int(hours // 24)} days"


def _code(rng: Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


_PARAM_GENERATORS: dict[str, Callable[[Random, dict], str]] = {
    "city": lambda r, p: r.choice(CITIES),
    "city_tag": lambda r, p: p["city"].lower(),
    "flight": lambda r, p: f"AX{r.randint(100, 2999)}",
    "hours": lambda r, p: str(r.choice((2, 3, 3, 4, 5, 6, 7, 9))),
    "order": lambda r, p: f"#{r.randint(10_000_000, 99_999_999)}",
    "amount": lambda r, p: r.choice(("12.99", "19.90", "24.50", "39.99", "49.00", "59.99", "89.00", "129.00",
                                     "240.00", "412.30")),
    "cur": lambda r, p: r.choice(("€", "€", "$", "£")),
    "item": lambda r, p: r.choice(ITEMS),
    "drink": lambda r, p: r.choice(DRINKS),
    "street": lambda r, p: r.choice(STREETS),
    "ref": lambda r, p: _code(r, 6),
    "code": lambda r, p: f"E-{r.randint(100, 9999)}",
    "years": lambda r, p: str(r.randint(2, 15)),
    "mins": lambda r, p: str(r.randint(10, 50)),
    "date": lambda r, p: (p["_ts"] - timedelta(days=r.randint(0, 2))).strftime("%d %b").lstrip("0"),
    "weekday": lambda r, p: WEEKDAYS[(p["_ts"] - timedelta(days=r.randint(1, 3))).weekday()],
    "time": lambda r, p: (p["_ts"] - timedelta(minutes=r.randint(15, 90))).strftime("%H:%M"),
    "news_url": lambda r, p: f"https://news.example.org/{p['brand'].lower()}-{r.randint(1000, 9999)}",
}


class _Params(dict):
    """Template values, drawn from the rng on first use; a case shares one instance so its details stay the same."""

    def __init__(self, rng: Random, **values: Any):
        super().__init__(**values)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        gen = _PARAM_GENERATORS.get(key)
        if gen is None:
            raise KeyError(key)
        value = gen(self.rng, self)
        self[key] = value
        return value


def _render(template: str, p: _Params) -> str:
    return template.format_map(p)


# ------------------------------------------------------------------------------------------------- customers
def _unique(rng: Random, base: str, taken: dict[str, None], *, max_len: int = 30, key: Callable[[str], str] = str.lower
            ) -> str:
    candidate = base[:max_len]
    while key(candidate) in taken or not candidate.lstrip("@"):
        candidate = base[: max_len - 4] + str(rng.randint(1, 9999))
    taken[key(candidate)] = None
    return candidate


def _handle_norm(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def _person_handle(rng: Random, first: str, last: str, channel: str) -> str:
    f, l = _slug(first) or "user", _slug(last) or "x"
    nn = str(rng.randint(1, 99))
    if channel == "twitter":
        parts = rng.choice(([f, l], [f, "_", l], [f[0], l], [f, l[0], nn], [f, "_", nn], [l, f[0]],
                            ["the", f, l[0]], [f, l, str(rng.randint(70, 99))], [rng.choice(HANDLE_WORDS), f]))
        style = rng.random()
        if style < 0.35:
            return "".join(p.capitalize() for p in parts)[:15]
        if style < 0.40:
            return "".join(parts).upper()[:15]
        return "".join(parts)[:15]
    if channel == "instagram":
        return rng.choice((f"{f}.{l}", f"{f}_{l}", f"{f}.{l}{nn}", f"{f}{l[0]}.{nn}", f"{rng.choice(HANDLE_WORDS)}.{f}",
                           f"{f}_{rng.choice(HANDLE_WORDS)}"))
    if channel == "facebook":
        return rng.choice((f"{f}.{l}", f"{f}.{l}.{rng.randint(1, 999)}", f"{f}{l}", f"{_cap(f)}{_cap(l)}"))
    # reviews
    return rng.choice((f"{_cap(f)}{_cap(l[0])}", f"{f}_{l}{nn}", f"{_cap(f)}{nn}",
                       f"{f}{l[0]}_{rng.choice(CITIES).lower()}"))


def _email_local(rng: Random, first: str, last: str) -> str:
    f, l = _slug(first) or "user", _slug(last) or "x"
    return rng.choice((f"{f}.{l}", f"{f}{l}", f"{f[0]}.{l}", f"{f}.{l}{rng.randint(1, 99)}", f"{f}_{l[0]}",
                       f"{l}.{f}"))


def generate_customers(rng: Random, n: int) -> list[Customer]:
    """`n` fictional CRM records `C000001`…: tiers ~80/15/5 % standard/gold/platinum, log-normal lifetime values per
    tier, 1–2 e-mails on reserved domains, handles on 2–4 social channels, followers for most (~1 % influencers)."""
    taken: dict[str, dict[str, None]] = {ch: {} for ch in SOCIAL_CHANNELS}
    emails_taken: dict[str, None] = {}
    n_influencers = max(1, round(n * 0.01)) if n >= 20 else (1 if n else 0)
    influencers = set(rng.sample(range(n), n_influencers)) if n else set()
    out: list[Customer] = []
    for i in range(n):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        tier = rng.choices(("standard", "gold", "platinum"), weights=(80, 15, 5))[0]
        mu, sigma = {"standard": (math.log(320), 0.8), "gold": (math.log(2400), 0.6),
                     "platinum": (math.log(11000), 0.5)}[tier]
        ltv = round(rng.lognormvariate(mu, sigma), 2)
        emails = []
        for k in range(1 if rng.random() < 0.7 else 2):
            local = _email_local(rng, first, last)
            domain = EMAIL_DOMAINS[k] if k else rng.choices(EMAIL_DOMAINS, weights=(5, 3, 2))[0]
            address = f"{local}@{domain}"
            while address.lower() in emails_taken:
                address = f"{local}{rng.randint(1, 999)}@{domain}"
            emails_taken[address.lower()] = None
            if rng.random() < 0.05:  # typed by hand into the CRM: matched case-insensitively
                mailbox, _, host = address.partition("@")
                address = ".".join(_cap(part) for part in mailbox.split(".")) + "@" + host
            emails.append(address)
        is_influencer = i in influencers
        k_channels = rng.choices((2, 3, 4), weights=(50, 35, 15))[0]
        channels = rng.sample(SOCIAL_CHANNELS, k_channels)
        if is_influencer and "twitter" not in channels and "instagram" not in channels:
            channels[0] = rng.choice(("twitter", "instagram"))
        channels.sort(key=SOCIAL_CHANNELS.index)
        identities = []
        for ch in channels:
            handle = _unique(rng, _person_handle(rng, first, last, ch), taken[ch], key=_handle_norm)
            if ch in ("twitter", "instagram") and rng.random() < 0.10:
                handle = "@" + handle
            identities.append(IdentityRef(channel=ch, handle=handle))
        if is_influencer:
            followers: Optional[int] = int(round(math.exp(rng.uniform(math.log(50_000), math.log(2_000_000))), -2))
        elif rng.random() < 0.65:
            followers = min(40_000, int(rng.lognormvariate(math.log(250), 1.3)))
        else:
            followers = None
        out.append(Customer(customer_id=f"C{i + 1:06d}", name=f"{first} {last}", emails=emails, tier=tier,
                            lifetime_value=ltv, identities=identities, followers=followers))
    return out


def _customer_dict(c: Customer) -> dict[str, Any]:
    d: dict[str, Any] = {"customer_id": c.customer_id, "name": c.name, "emails": list(c.emails), "tier": c.tier,
                         "lifetime_value": c.lifetime_value,
                         "identities": [{"channel": i.channel, "handle": i.handle} for i in c.identities]}
    if c.followers is not None:
        d["followers"] = c.followers
    return d


# -------------------------------------------------------------------------------------------------- mentions
@dataclass
class _Prospect:
    channel: str
    handle: str
    name: str
    followers: Optional[int]


@dataclass
class _Event:
    ts: datetime
    seq: int
    channel: str
    brand: Brand
    intent: str
    customer: Optional[Customer]
    record: dict[str, Any]
    reply_to: Optional["_Event"] = None
    junk: Optional[str] = None
    id: str = ""


@dataclass
class _MentionSet:
    records: list[dict[str, Any]]
    junk_idx: list[int]
    dup_idx: list[int]
    intents: dict[str, str]
    authors: dict[str, Optional[str]]
    non_english: int
    spike: Optional[SpikeSummary]


def _intent_weights(channel: str, brand: Brand) -> dict[str, float]:
    if channel in MAIL_CHANNELS:
        w = {"complaint": 0.40, "praise": 0.06, "question": 0.36, "neutral": 0.18, "negative_other": 0.0}
    elif channel == "reviews":
        w = {"complaint": 0.34, "praise": 0.46, "question": 0.0, "neutral": 0.20, "negative_other": 0.0}
    else:
        w = {"complaint": 0.20, "praise": 0.31, "question": 0.17, "neutral": 0.21, "negative_other": 0.11}
    w["complaint"] *= brand.complaint_bias
    return w


class _MentionFactory:
    """Builds mention events. Holds the author pools and the rng; all draws happen in a fixed order."""

    def __init__(self, rng: Random, customers: list[Customer], n: int, start: datetime, days: int):
        self.rng = rng
        self.customers = customers
        self.start = start if start.tzinfo else start.replace(tzinfo=UTC)
        self.days = max(1, days)
        self.end = self.start + timedelta(days=self.days)
        self.seq = 0
        day_factors = [rng.uniform(0.9, 1.1) for _ in range(self.days)]
        self.slot_weights = [day_factors[d] * HOUR_WEIGHTS[h] for d in range(self.days) for h in range(24)]
        self.slot_cum = _cumulative(self.slot_weights)
        self.brand_cum = _cumulative([b.share for b in BRANDS])
        self.channel_cum = _cumulative([CHANNEL_SHARE[c] for c in CHANNELS])
        # who posts how much: a log-normal activity level per customer; influencers post more
        self.activity = {c.customer_id: rng.lognormvariate(0, 1.0) * (3 if (c.followers or 0) >= 50_000 else 1)
                         for c in customers}
        self.pools: dict[str, tuple[list[Customer], list[float]]] = {}
        for ch in SOCIAL_CHANNELS:
            pool = [c for c in customers if any(i.channel == ch for i in c.identities)]
            self.pools[ch] = (pool, _cumulative([self.activity[c.customer_id] for c in pool]))
        everyone = [c for c in customers if c.emails]
        for ch in MAIL_CHANNELS:
            self.pools[ch] = (everyone, _cumulative([self.activity[c.customer_id] for c in everyone]))
        self.social_followers: dict[str, int] = {}
        self.prospects = self._make_prospects(n)

    # -- authors
    def _make_prospects(self, n: int) -> dict[str, tuple[list[_Prospect], list[float]]]:
        rng = self.rng
        taken: dict[str, dict[str, None]] = {ch: {} for ch in CHANNELS}
        for c in self.customers:
            for ident in c.identities:
                taken[ident.channel][_handle_norm(ident.handle)] = None
            for e in c.emails:
                taken["email"][e.lower()] = None
        taken["support"] = taken["email"]
        out = {}
        for ch in CHANNELS:
            expected = n * CHANNEL_SHARE[ch] * (1 - KNOWN_AUTHOR_SHARE)
            size = max(5, int(expected * 0.55))
            pool, weights = [], []
            for k in range(size):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                if ch in MAIL_CHANNELS:
                    local = _email_local(rng, first, last) if rng.random() < 0.7 else (
                        f"{rng.choice(HANDLE_WORDS)}{_slug(first)}{rng.randint(1, 999)}")
                    domain = rng.choice(EMAIL_DOMAINS)
                    handle = f"{local}@{domain}"
                    while handle.lower() in taken[ch]:
                        handle = f"{local}{rng.randint(1, 999)}@{domain}"
                    taken[ch][handle.lower()] = None
                else:
                    base = _person_handle(rng, first, last, ch) if rng.random() < 0.6 else (
                        f"{rng.choice(HANDLE_WORDS)}_{_slug(first)}{rng.randint(1, 99)}")
                    handle = _unique(rng, base, taken[ch], key=_handle_norm)
                followers = None
                if ch in ("twitter", "instagram", "facebook"):
                    if rng.random() < 0.015:
                        followers = int(round(math.exp(rng.uniform(math.log(50_000), math.log(2_000_000))), -2))
                    else:
                        followers = min(45_000, int(rng.lognormvariate(math.log(180), 1.4)))
                pool.append(_Prospect(ch, handle, f"{first} {last}", followers))
                weights.append((1.0 / (k + 1) ** 0.35) * (2.0 if (followers or 0) >= 50_000 else 1.0))
            out[ch] = (pool, _cumulative(weights))
        return out

    def pick_customer(self, channel: str) -> Optional[Customer]:
        pool, cum = self.pools[channel]
        return self.rng.choices(pool, cum_weights=cum)[0] if pool else None

    def pick_prospect(self, channel: str) -> _Prospect:
        pool, cum = self.prospects[channel]
        return self.rng.choices(pool, cum_weights=cum)[0]

    def _handle_variant(self, handle: str, channel: str) -> str:
        """The author as the channel delivers it: usually as in the CRM, sometimes in another case or with/without @."""
        r = self.rng.random()
        bare = handle.lstrip("@")
        if r < 0.06:
            return bare.lower() if bare != bare.lower() else _cap(bare)
        if r < 0.10 and channel in ("twitter", "instagram"):
            return bare if handle.startswith("@") else "@" + bare
        if r < 0.11:
            return bare.upper()
        if r < 0.115:
            return f" {handle} "  # stray whitespace from a sloppy producer; normalisation strips it
        return handle

    def _email_variant(self, address: str) -> str:
        r = self.rng.random()
        if r < 0.06:
            local, _, domain = address.partition("@")
            return f"{_cap(local)}@{_cap(domain)}"
        if r < 0.08:
            return address.upper()
        if r < 0.085:
            return "mailto:" + address
        return address

    def author_fields(self, channel: str, customer: Optional[Customer], prospect: Optional[_Prospect]
                      ) -> dict[str, Any]:
        rng = self.rng
        d: dict[str, Any] = {}
        if customer is not None:
            if channel in MAIL_CHANNELS:
                address = customer.emails[0] if len(customer.emails) == 1 or rng.random() < 0.8 else customer.emails[1]
                d["author"] = self._email_variant(address)
                if rng.random() < 0.7:
                    d["author_name"] = customer.name
            else:
                handle = next(i.handle for i in customer.identities if i.channel == channel)
                d["author"] = self._handle_variant(handle, channel)
                name_p = 0.3 if channel == "reviews" else 0.6
                if rng.random() < name_p:
                    first, _, last = customer.name.partition(" ")
                    d["author_name"] = f"{first} {last[:1]}." if channel == "reviews" else customer.name
                if channel != "reviews":
                    followers = customer.followers
                    if followers is None:
                        followers = self.social_followers.get(customer.customer_id)
                        if followers is None:
                            followers = min(20_000, int(rng.lognormvariate(math.log(150), 1.2)))
                            self.social_followers[customer.customer_id] = followers
                    if rng.random() < (0.4 if channel == "facebook" else 0.9):
                        d["author_followers"] = followers
                if customer.emails and rng.random() < 0.15:
                    d["author_email"] = customer.emails[0]
        else:
            assert prospect is not None
            d["author"] = prospect.handle
            if rng.random() < (0.7 if channel in MAIL_CHANNELS else 0.5):
                d["author_name"] = prospect.name
            if prospect.followers is not None and rng.random() < (0.4 if channel == "facebook" else 0.9):
                d["author_followers"] = prospect.followers
        return d

    # -- time
    def random_ts(self) -> datetime:
        slot = self.rng.choices(range(len(self.slot_weights)), cum_weights=self.slot_cum)[0]
        return self.start + timedelta(hours=slot, seconds=self.rng.randrange(3600))

    # -- text
    def brand_ref(self, brand: Brand, channel: str) -> str:
        r = self.rng.random()
        if channel in ("reviews",) or channel in MAIL_CHANNELS:
            return brand.name
        if channel == "facebook":
            return "@" + brand.handle if r < 0.5 else brand.name
        if r < 0.85:
            return "@" + brand.handle
        if r < 0.90:
            return "@" + brand.name
        return brand.name

    def params(self, brand: Brand, channel: str, ts: datetime, base: Optional[_Params] = None) -> _Params:
        p = _Params(self.rng) if base is None else base
        p["_ts"] = ts
        p["brand"] = brand.name
        p["h"] = self.brand_ref(brand, channel)
        return p

    def complaint_phrases(self, issue: Issue, p: _Params) -> None:
        for key in ("clause", "sarcasm"):
            if f"_{key}" not in p:  # a case keeps its wording across follow-ups
                p[f"_{key}"] = self.rng.choice(getattr(issue, key))
            p[key] = _render(p[f"_{key}"], p)
        p["Clause"] = _cap(p["clause"])
        p["noun"] = _render(issue.noun, p)
        p["subject"] = _render(issue.subject, p)
        p["formal"] = _render(issue.formal, p)
        p["Extra"] = _render(self.rng.choice(COMPLAINT_EXTRAS), p)

    def social_complaint(self, brand: Brand, issue: Issue, p: _Params, channel: str) -> str:
        rng = self.rng
        self.complaint_phrases(issue, p)
        if channel == "reviews":
            return _render(rng.choice(REVIEW_COMPLAINT), p)
        r = rng.random()
        if r < 0.15 and issue.direct:
            text = _render(rng.choice(issue.direct), p)
        elif r < 0.55:
            text = _render(rng.choice(DIRECT_FRAMES), p)
        elif r < 0.80:
            text = _render(rng.choice(POLITE_FRAMES), p)
        else:
            text = _render(rng.choice(SARCASTIC_FRAMES), p)
        if rng.random() < 0.25:
            text = f"{text}{'' if text[-1:] in '.!?' else '.'} {p['Extra']}"
        if rng.random() < 0.03:
            text = text.lower().rstrip(".!")
        return text

    def mail_complaint(self, issue: Issue, p: _Params, channel: str, author_name: Optional[str],
                       prior: str = "") -> str:
        rng = self.rng
        self.complaint_phrases(issue, p)
        request = rng.choice(EMAIL_REQUESTS)
        if channel == "support":
            if rng.random() < 0.5:
                return f"{p['formal']}{prior} {request}"
            return f"Hi, {p['clause']}.{prior} {request}"
        signature = f"\n{author_name}" if author_name else ""
        return (f"Subject: {p['subject']}\n\n{_render(rng.choice(EMAIL_GREETINGS), p)}\n\n{p['formal']}{prior}\n\n"
                f"{request}\n\n{rng.choice(EMAIL_SIGNOFFS)}{signature}")

    def text_for(self, brand: Brand, intent: str, channel: str, p: _Params, author_name: Optional[str]) -> str:
        rng = self.rng
        if intent == "complaint":
            issue = rng.choices(brand.issues, weights=[i.weight for i in brand.issues])[0]
            if channel in MAIL_CHANNELS:
                return self.mail_complaint(issue, p, channel, author_name)
            return self.social_complaint(brand, issue, p, channel)
        if intent == "praise":
            p["praise"] = _render(rng.choice(brand.praise), p)
            p["Praise"] = _cap(p["praise"])
            if channel == "reviews":
                return _render(rng.choice(REVIEW_PRAISE), p)
            if channel in MAIL_CHANNELS:
                body = f"Just wanted to say thank you: {p['praise']}."
                if channel == "support":
                    return f"Hi, {body[0].lower()}{body[1:]}"
                sig = f"\n{author_name}" if author_name else ""
                return f"Subject: Thank you\n\nHi {brand.name} team,\n\n{body}\n\nBest,{sig}"
            return _render(rng.choice(PRAISE_FRAMES), p)
        if intent == "question":
            p["question"] = _render(rng.choice(brand.questions), p)
            p["Question"] = _cap(p["question"])
            if channel in MAIL_CHANNELS:
                if channel == "support":
                    return p["Question"] if rng.random() < 0.6 else f"Hi, {p['question']}"
                sig = f"\n{author_name}" if author_name else ""
                return f"Subject: Question\n\nHello,\n\n{p['Question']}\n\nThanks,{sig}"
            return _render(rng.choice(QUESTION_FRAMES), p)
        if intent == "neutral":
            if channel in MAIL_CHANNELS:
                body = _render(rng.choice(EMAIL_NEUTRAL), p)
                if channel == "support":
                    return body
                sig = f"\n{author_name}" if author_name else ""
                return f"Subject: My account\n\nHello,\n\n{body}\n\nThank you,{sig}"
            if channel == "reviews":
                p["question_plain"] = _cap(_render(rng.choice(brand.questions), p))
                return _render(rng.choice(REVIEW_NEUTRAL), p)
            r = rng.random()
            if r < 0.004 and channel == "instagram":
                return ""  # a photo without a caption: empty text is valid
            if r < 0.01:
                return rng.choice(("🔥🔥🔥", "👀", "☕☕", "✈️✈️", "📦"))
            tpl = rng.choice(brand.neutral) if r < 0.75 else rng.choice(GENERIC_NEUTRAL)
            return _render(tpl, p)
        # negative_other: negative words, but not a complaint about the brand
        return _render(rng.choice(NEGATIVE_OTHER), p)

    def decorate(self, text: str, brand: Brand, intent: str, channel: str) -> str:
        """Emoji, hashtags and links as people add them on social channels."""
        rng = self.rng
        if channel not in ("twitter", "facebook", "instagram") or not text:
            return text
        if rng.random() < 0.30:
            text += " " + rng.choice(INTENT_EMOJI[intent] + brand.emoji)
        tag_p = 0.6 if channel == "instagram" else 0.22
        if rng.random() < tag_p:
            tags = [rng.choice(brand.tags)]
            if rng.random() < 0.4:
                tags.append(rng.choice(INTENT_TAGS[intent]))
            text += " " + " ".join(tags)
        if rng.random() < 0.06:
            text += f" https://pics.example.com/{_code(rng, 8, _CODE[:62])}"
        return text

    # -- records
    def new_event(self, ts: datetime, brand: Brand, channel: str, intent: str, customer: Optional[Customer],
                  text: str, author: dict[str, Any], lang: Optional[str] = None) -> _Event:
        rng = self.rng
        rec: dict[str, Any] = {"channel": channel, "text": text, "created_at": _iso(ts), "brand": brand.name}
        rec.update(author)
        if lang:
            rec["lang"] = lang
        elif channel == "twitter" and rng.random() < 0.6:
            rec["lang"] = "en"
        bare = str(author["author"]).strip().lstrip("@")
        if channel == "twitter" and rng.random() < 0.7:
            rec["url"] = f"https://x.example.com/{bare}/status/{rng.randint(10**17, 10**18 - 1)}"
        elif channel == "facebook" and rng.random() < 0.5:
            rec["url"] = f"https://facebook.example.com/{brand.handle}/posts/{rng.randint(10**14, 10**15 - 1)}"
        elif channel == "instagram" and rng.random() < 0.6:
            rec["url"] = f"https://instagram.example.com/p/{_code(rng, 11, _CODE)}"
        elif channel == "reviews" and rng.random() < 0.8:
            rec["url"] = f"https://reviews.example.org/{brand.handle}/{rng.randint(100000, 999999)}"
        elif channel == "support" and rng.random() < 0.4:
            rec["url"] = f"https://support.example.com/tickets/{rng.randint(100000, 999999)}"
        meta = self.metadata(channel, intent, author.get("author_followers"))
        if meta is not None:
            rec["metadata"] = meta
        self.seq += 1
        return _Event(ts=ts, seq=self.seq, channel=channel, brand=brand, intent=intent, customer=customer, record=rec)

    def metadata(self, channel: str, intent: str, followers: Optional[int]) -> Optional[dict[str, Any]]:
        rng = self.rng
        if channel == "reviews":
            rating = {"complaint": rng.choice((1, 1, 2)), "praise": rng.choice((4, 5, 5)),
                      "neutral": 3, "question": 3}.get(intent, 3)
            return {"rating": rating}
        if channel == "support" and rng.random() < 0.5:
            prio = "high" if intent == "complaint" and rng.random() < 0.3 else "normal"
            return {"queue": rng.choice(("billing", "technical", "general")), "priority": prio}
        if channel in ("twitter", "facebook", "instagram") and rng.random() < 0.25:
            reach = math.log1p((followers or 50) / 100)
            likes = int(rng.lognormvariate(reach, 1.0))
            second = "comments" if channel == "instagram" else "shares"
            return {"likes": likes, second: int(likes * rng.uniform(0, 0.3))}
        return None

    def base_event(self) -> _Event:
        rng = self.rng
        ts = self.random_ts()
        brand = rng.choices(BRANDS, cum_weights=self.brand_cum)[0]
        channel = rng.choices(CHANNELS, cum_weights=self.channel_cum)[0]
        customer = self.pick_customer(channel) if rng.random() < KNOWN_AUTHOR_SHARE else None
        prospect = None if customer is not None else self.pick_prospect(channel)
        author = self.author_fields(channel, customer, prospect)
        name = author.get("author_name")
        p = self.params(brand, channel, ts)
        if channel != "email" and rng.random() < NON_ENGLISH_SHARE / (1 - CHANNEL_SHARE["email"]):
            lang = rng.choice(("es", "es", "fr", "de"))
            intent = rng.choices(("complaint", "praise", "question"), weights=(35, 35, 30))[0]
            text = self.decorate(_render(rng.choice(FOREIGN[lang][intent]), p), brand, intent, channel)
            return self.new_event(ts, brand, channel, intent, customer, text, author, lang)
        w = _intent_weights(channel, brand)
        intent = rng.choices(INTENTS, weights=[w[i] for i in INTENTS])[0]
        text = self.decorate(self.text_for(brand, intent, channel, p, name), brand, intent, channel)
        return self.new_event(ts, brand, channel, intent, customer, text, author)

    # -- scenarios
    def case_events(self, customer: Customer, kind: str) -> list[_Event]:
        """A customer's complaint that is not resolved: repeated on one channel, or moved from public to e-mail."""
        rng = self.rng
        brand = rng.choices(BRANDS, cum_weights=self.brand_cum)[0]
        issue = rng.choices(brand.issues, weights=[i.weight if i.key != "outage" else 0 for i in brand.issues])[0]
        socials = [i.channel for i in customer.identities if i.channel != "reviews"] or [customer.identities[0].channel]
        public = rng.choice(socials)
        if kind == "repeat":
            plan = [public] * rng.choices((2, 3, 4, 5), weights=(35, 35, 20, 10))[0]
        elif kind == "cross":
            plan = [public, rng.choice(MAIL_CHANNELS)] + ([public] if rng.random() < 0.35 else [])
        else:  # mixed: back and forth
            mail = rng.choice(MAIL_CHANNELS)
            plan = [public, public, mail] + rng.sample([public, mail], rng.randint(0, 2))
        total_h = self.days * 24
        t = self.start + timedelta(hours=rng.uniform(0, total_h * 0.55))
        first_ts = t
        case = _Params(rng)
        events: list[_Event] = []
        for step, channel in enumerate(plan):
            if step:
                gap_h = rng.uniform(0.25, 6) if channel != plan[step - 1] else rng.uniform(2, max(3.0, total_h * 0.22))
                t = t + timedelta(hours=gap_h)
                if t >= self.end:
                    if len(events) >= 2:
                        break
                    t = self.end - timedelta(minutes=rng.randint(1, 30))
            ts = t.replace(microsecond=0)
            author = self.author_fields(channel, customer, None)
            p = self.params(brand, channel, ts, case)
            prev = events[-1] if events else None
            if prev is None:
                if channel in MAIL_CHANNELS:
                    text = self.mail_complaint(issue, p, channel, author.get("author_name"))
                else:
                    text = self.decorate(self.social_complaint(brand, issue, p, channel), brand, "complaint", channel)
            else:
                self.complaint_phrases(issue, p)
                p["day"] = str((ts - first_ts).days + 1)
                p["nth"] = _ordinal(step + 1)
                p["since"] = _since(ts - first_ts)
                p["prior_action"] = PRIOR_ACTION[prev.channel]
                p["ago"] = _ago(ts - prev.ts)
                if channel in MAIL_CHANNELS:
                    if prev.channel != channel:
                        prior = f" I already {p['prior_action']} {p['ago']} but nobody got back to me."
                    else:
                        prior = f" This is my {p['nth']} message about this and I still have no answer."
                    text = self.mail_complaint(issue, p, channel, author.get("author_name"), prior)
                    if channel == "email" and prev.channel == "email":
                        text = "Subject: Re: " + text[len("Subject: "):]
                elif prev.channel != channel:
                    text = self.decorate(_render(rng.choice(CROSS_FOLLOWUP_FRAMES), p), brand, "complaint", channel)
                else:
                    frames = [fr for fr in FOLLOWUP_FRAMES if "{day}" not in fr or (ts - first_ts).days >= 1]
                    text = self.decorate(_render(rng.choice(frames), p), brand, "complaint", channel)
            ev = self.new_event(ts, brand, channel, "complaint", customer, text, author)
            if prev is not None and prev.channel == channel and (channel in MAIL_CHANNELS or rng.random() < 0.6):
                ev.reply_to = prev
            events.append(ev)
        return events

    def spike_events(self, brand: Brand, hour_start: datetime, count: int) -> list[_Event]:
        """An outage: `count` complaints within one hour, front-loaded (most in the first 20 minutes)."""
        rng = self.rng
        outage = next(i for i in brand.issues if i.key == "outage")
        weights = {"twitter": 60, "facebook": 10, "instagram": 5, "support": 20, "email": 5}
        chans, cw = list(weights), list(weights.values())
        events = []
        cities = rng.sample(CITIES, 3)  # the region that is down
        for _ in range(count):
            ts = hour_start + timedelta(seconds=int(rng.triangular(0, 3599, 600)))
            channel = rng.choices(chans, weights=cw)[0]
            customer = self.pick_customer(channel) if rng.random() < 0.55 else None
            prospect = None if customer is not None else self.pick_prospect(channel)
            author = self.author_fields(channel, customer, prospect)
            p = self.params(brand, channel, ts)
            p["city"] = rng.choice(cities)
            p["mins"] = str(max(5, int((ts - hour_start).total_seconds() // 60) + 5))
            p["time"] = hour_start.strftime("%H:%M")
            lang = None
            if channel in MAIL_CHANNELS:
                text = self.mail_complaint(outage, p, channel, author.get("author_name"))
            elif rng.random() < 0.04:
                lang = rng.choice(("es", "fr", "de"))
                text = _render(rng.choice(SPIKE_FOREIGN[lang]), p)
            elif rng.random() < 0.7:
                text = self.decorate(_render(rng.choice(SPIKE_TEXTS), p), brand, "complaint", channel)
            else:
                text = self.decorate(self.social_complaint(brand, outage, p, channel), brand, "complaint", channel)
            events.append(self.new_event(ts, brand, channel, "complaint", customer, text, author, lang))
        return events

    def expected_complaints_in_slot(self, brand: Brand, n_base: int, slot: int) -> float:
        p_c = sum(CHANNEL_SHARE[ch] * _intent_weights(ch, brand)["complaint"] / sum(_intent_weights(ch, brand).values())
                  for ch in CHANNELS)
        return n_base * brand.share * p_c * self.slot_weights[slot] / sum(self.slot_weights)


def _cumulative(weights: list[float]) -> list[float]:
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out


_JUNK_BREAKERS: tuple[tuple[str, Callable[[dict, Random], None]], ...] = (
    ("missing id", lambda d, r: d.pop("id")),
    ("missing channel", lambda d, r: d.pop("channel")),
    ("missing author", lambda d, r: d.pop("author")),
    ("missing text", lambda d, r: d.pop("text")),
    ("channel upper case", lambda d, r: d.__setitem__("channel", r.choice(("Twitter", "FACEBOOK", "Instagram")))),
    ("channel with space", lambda d, r: d.__setitem__("channel", r.choice(("face book", "customer support",
     " twitter")))),
    ("followers as string", lambda d, r: d.__setitem__("author_followers", r.choice(("12k", "1,204", "350")))),
    ("negative followers", lambda d, r: d.__setitem__("author_followers", -r.randint(1, 500))),
    ("text null", lambda d, r: d.__setitem__("text", None)),
    ("text number", lambda d, r: d.__setitem__("text", r.randint(1, 10**6))),
    ("id number", lambda d, r: d.__setitem__("id", r.randint(1, 10**6))),
    ("id empty", lambda d, r: d.__setitem__("id", "")),
    ("author empty", lambda d, r: d.__setitem__("author", "")),
    ("created_at epoch", lambda d, r: d.__setitem__("created_at", r.randint(1_763_000_000, 1_764_000_000))),
    ("metadata list", lambda d, r: d.__setitem__("metadata", ["likes", r.randint(1, 99)])),
    ("lang too long", lambda d, r: d.__setitem__("lang", "english (united kingdom)")),
)


def _build_mentions(rng: Random, customers: list[Customer], n: int, start: datetime, days: int) -> _MentionSet:
    f = _MentionFactory(rng, customers, n, start, days)
    events: list[_Event] = []
    # repeat and cross-channel complainers (a few VIPs and influencers among them, on purpose)
    n_cases = min(round(len(customers) * 0.05), round(n * 0.012))
    if customers and n >= 20:
        n_cases = max(n_cases, 3)
    chosen: dict[str, None] = {}
    platinum = [c for c in customers if c.tier == "platinum"]
    influencers = [c for c in customers if (c.followers or 0) >= 50_000]
    forced = rng.sample(platinum, min(3, len(platinum))) + rng.sample(influencers, min(2, len(influencers)))
    kinds = ("repeat", "cross", "mixed")
    case_customers = []
    for c in forced + [c for c in rng.sample(customers, min(len(customers), n_cases * 2))]:
        if len(case_customers) >= n_cases:
            break
        if c.customer_id not in chosen:
            chosen[c.customer_id] = None
            case_customers.append(c)
    for k, c in enumerate(case_customers):
        kind = kinds[k % 3] if k < 3 else rng.choices(kinds, weights=(45, 35, 20))[0]
        events.extend(f.case_events(c, kind))
    # the complaint spike: SPIKE_FACTOR × the brand's usual complaints in that hour, on day 4 (or the last day)
    spike_brand = _BRAND_BY_NAME[SPIKE_BRAND]
    spike_day = min(3, f.days - 1)
    spike_slot = spike_day * 24 + 14
    hour_start = f.start + timedelta(hours=spike_slot)
    n_spike = 0
    if n >= 200:
        # first an estimate (per base mention: complaints expected in the spike slot and, on average, in the same
        # hour of the other days), then the exact count from the generated background
        here = f.expected_complaints_in_slot(spike_brand, 1, spike_slot)
        others = [f.expected_complaints_in_slot(spike_brand, 1, d * 24 + 14) for d in range(f.days) if d != spike_day]
        usual = sum(others) / len(others) if others else here
        k = SPIKE_FACTOR * usual - here
        n_spike = max(10, round(k * (n - len(events)) / (1 + k)))
    while len(events) < n - n_spike:
        events.append(f.base_event())
    if n_spike:
        counts = [0] * f.days
        for ev in events:
            if ev.brand is spike_brand and ev.intent == "complaint" and ev.ts.hour == 14:
                counts[(ev.ts - f.start).days] += 1
        others_n = [c for d, c in enumerate(counts) if d != spike_day]
        usual_n = sum(others_n) / len(others_n) if others_n else counts[spike_day]
        n_spike = max(10, round(SPIKE_FACTOR * usual_n - counts[spike_day]))
        events.extend(f.spike_events(spike_brand, hour_start, n_spike))
    while len(events) < n:
        events.append(f.base_event())
    if len(events) > n:  # too many: drop background mentions, keep the cases (first) and the spike (last)
        spike_part = events[len(events) - n_spike:] if n_spike else []
        events = events[: max(0, n - len(spike_part))] + spike_part
        events = events[:n]
    # junk records travel with the stream (they get ids like everybody else), then are broken
    n_junk = max(1, round(n * JUNK_SHARE * 0.6)) if n else 0
    junk_events = [f.base_event() for _ in range(n_junk)]
    for ev in junk_events:
        ev.junk = "junk"
    all_events = sorted(events + junk_events, key=lambda e: (e.ts, e.seq))
    counters = {ch: 0 for ch in CHANNELS}
    recent: dict[tuple[str, str], list[str]] = {}
    for ev in all_events:
        counters[ev.channel] += 1
        ev.id = f"{ID_PREFIX[ev.channel]}-{counters[ev.channel]:06d}"
        rec = ev.record
        rec["id"] = ev.id
        if ev.reply_to is not None and ev.reply_to.id:
            rec["in_reply_to"] = ev.reply_to.id
        elif ev.channel in ("twitter", "facebook", "instagram") and rng.random() < 0.04:
            thread = recent.get((ev.channel, ev.brand.name))
            if thread:
                rec["in_reply_to"] = rng.choice(thread)
        if ev.junk is None and ev.channel in ("twitter", "facebook", "instagram"):
            thread = recent.setdefault((ev.channel, ev.brand.name), [])
            thread.append(ev.id)
            if len(thread) > 50:
                del thread[0]
    # break the junk records
    oversize_done = n < 5000
    for ev in junk_events:
        if not oversize_done:
            ev.record["text"] = "spam " * 21_000  # 105,000 chars: over MAX_TEXT_LEN
            ev.junk, oversize_done = "text too long", True
            continue
        ev.junk, breaker = rng.choice(_JUNK_BREAKERS)
        breaker(ev.record, rng)
    # duplicate deliveries of valid mentions: the same record again, right behind the first
    n_dup = max(1, round(n * DUPLICATE_SHARE)) if n else 0
    valid_positions = [i for i, ev in enumerate(all_events) if ev.junk is None]
    dup_of = set(rng.sample(valid_positions, min(n_dup, len(valid_positions))))
    records: list[dict[str, Any]] = []
    junk_idx: list[int] = []
    dup_idx: list[int] = []
    intents: dict[str, str] = {}
    authors: dict[str, Optional[str]] = {}
    non_english = 0
    for i, ev in enumerate(all_events):
        if ev.junk is not None:
            junk_idx.append(len(records))
            records.append(ev.record)
            continue
        key = f"{ev.channel}:{ev.id}"
        intents[key] = ev.intent
        authors[key] = ev.customer.customer_id if ev.customer is not None else None
        non_english += ev.record.get("lang", "en") != "en"
        records.append(ev.record)
        if i in dup_of:
            dup_idx.append(len(records))
            records.append(json.loads(json.dumps(ev.record)))
    spike = None
    if n_spike:
        spike = _spike_summary(all_events, spike_brand, hour_start, f.start, f.days, spike_day)
    return _MentionSet(records, junk_idx, dup_idx, intents, authors, non_english, spike)


def _spike_summary(events: list[_Event], brand: Brand, hour_start: datetime, start: datetime, days: int,
                   spike_day: int) -> SpikeSummary:
    hour_end = hour_start + timedelta(hours=1)
    mentions = complaints = 0
    other = [0] * days
    for ev in events:
        if ev.junk is not None or ev.brand is not brand:
            continue
        if hour_start <= ev.ts < hour_end:
            mentions += 1
            complaints += ev.intent == "complaint"
        elif ev.ts.hour == hour_start.hour and ev.intent == "complaint":
            other[(ev.ts - start).days] += 1
    others = [c for d, c in enumerate(other) if d != spike_day]
    baseline = sum(others) / len(others) if others else 0.0
    return SpikeSummary(brand=brand.name, start=_iso(hour_start), end=_iso(hour_end), mentions=mentions,
                        complaints=complaints, baseline_complaints=round(baseline, 2),
                        ratio=round(complaints / baseline, 1) if baseline else 0.0)


def generate_mentions(rng: Random, customers: list[Customer], n: int, start: datetime, days: int
                      ) -> list[dict[str, Any]]:
    """`n` distinct valid mentions over `days` days from `start`, plus ~0.5 % duplicate deliveries and ~0.6 % broken
    records (missing fields, wrong types), sorted by `created_at`. Lines that are not JSON at all are added by
    `write_sample`, since a dict cannot hold them."""
    return _build_mentions(rng, customers, n, start, days).records


# ------------------------------------------------------------------------------------------------ junk lines
def _raw_junk(rng: Random, neighbour: bytes) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return neighbour[: max(10, len(neighbour) // 2)]  # truncated write
    if kind == 1:
        return rng.choice((b"PING", b"hello world", b"ERROR 502 Bad Gateway", b"-- end of batch --"))
    if kind == 2:
        return b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    if kind == 3:
        return b"tw-999999,twitter,@someone,\"great flight\",2026-11-17T10:00:00Z"
    if kind == 4:
        return rng.choice((b"[1, 2, 3]", b"null", b"\"just a string\"", b"42", b"{}"))
    if kind == 5:
        return b"{'id': 'tw-1', 'channel': 'twitter', 'author': 'x', 'text': 'python repr, not JSON'}"
    if kind == 6:
        return (b'{"id":"tw-x%d","channel":"twitter","author":"nan_fan","text":"followers unknown",'
                b'"author_followers":NaN}' % rng.randint(1, 9999))
    if kind == 7:  # Latin-1 bytes where UTF-8 is required
        return (b'{"id":"fb-latin1-%d","channel":"facebook","author":"caf\xe9_lover",'
                b'"text":"Caf\xe9 cr\xe8me br\xfbl\xe9e"}' % rng.randint(1, 9999))
    if kind == 8:
        return b'{"id": "ig-trailing", "channel": "instagram", "author": "x", "text": "trailing comma",}'
    return b"\x00\x01\x02binary\xff\xfe"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _gzip(lines: list[bytes]) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        for line in lines:
            gz.write(line)
            gz.write(b"\n")
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------- public API
def build_sample(*, seed: int = DEFAULT_SEED, customers: int = DEFAULT_CUSTOMERS, mentions: int = DEFAULT_MENTIONS,
                 days: int = DEFAULT_DAYS, start: datetime = DEFAULT_START) -> Sample:
    """The whole sample in memory (what `write_sample` writes), with the generated intent of every mention."""
    rng = Random(seed)
    crm = generate_customers(rng, customers)
    ms = _build_mentions(rng, crm, mentions, start, days)
    lines = [_dumps(r) for r in ms.records]
    junk = set(ms.junk_idx)
    dups = list(ms.dup_idx)
    # lines that are not a JSON object at all, at random places
    n_raw = max(1, round(mentions * JUNK_SHARE * 0.4)) if mentions else 0
    for _ in range(n_raw):
        pos = rng.randint(0, len(lines))
        neighbour = lines[min(pos, len(lines) - 1)] if lines else b"{}"
        lines.insert(pos, _raw_junk(rng, neighbour))
        junk = {j + 1 if j >= pos else j for j in junk} | {pos}
        dups = [d + 1 if d >= pos else d for d in dups]
    summary = _summarise(seed, start, days, crm, ms, len(lines), len(junk))
    return Sample(customers=crm, customer_lines=[_dumps(_customer_dict(c)) for c in crm], mention_lines=lines,
                  junk_lines=sorted(junk), duplicate_lines=dups, intents=ms.intents, authors=ms.authors,
                  summary=summary)


def _summarise(seed: int, start: datetime, days: int, crm: list[Customer], ms: _MentionSet, n_lines: int,
               n_junk: int) -> SampleSummary:
    tiers = {t: 0 for t in ("standard", "gold", "platinum")}
    for c in crm:
        tiers[c.tier] = tiers.get(c.tier, 0) + 1
    per_brand = {b.name: BrandSummary(mentions=0, complaints=0) for b in BRANDS}
    per_channel = {ch: 0 for ch in CHANNELS}
    intents = {i: 0 for i in INTENTS}
    complained: dict[tuple[str, str], list[str]] = {}
    seen: dict[str, None] = {}
    for rec in ms.records:
        key = f"{rec.get('channel')}:{rec.get('id')}"
        if key not in ms.intents or key in seen:
            continue
        seen[key] = None
        intent = ms.intents[key]
        intents[intent] += 1
        per_channel[rec["channel"]] += 1
        b = per_brand[rec["brand"]]
        b.mentions += 1
        if intent == "complaint":
            b.complaints += 1
            cid = ms.authors[key]
            if cid is not None:
                complained.setdefault((cid, rec["brand"]), []).append(rec["channel"])
    known = sum(1 for v in ms.authors.values() if v is not None)
    repeaters = {cid for (cid, _), chans in complained.items() if len(chans) >= 2}
    cross = {cid for (cid, _), chans in complained.items() if len(set(chans)) >= 2}
    return SampleSummary(
        seed=seed, start=_iso(start), days=days, customers=len(crm), customers_by_tier=tiers,
        influencer_customers=sum(1 for c in crm if (c.followers or 0) >= 50_000), mentions=len(ms.intents),
        lines=n_lines, junk=n_junk, duplicates=len(ms.dup_idx), complaints=intents["complaint"], intents=intents,
        per_brand=per_brand, per_channel=per_channel, known_author_mentions=known,
        unknown_author_mentions=len(ms.authors) - known, non_english=ms.non_english,
        repeat_complainers=len(repeaters), cross_channel_complainers=len(cross), spike=ms.spike)


def write_sample(out_dir: Path, *, seed: int = DEFAULT_SEED, customers: int = DEFAULT_CUSTOMERS,
                 mentions: int = DEFAULT_MENTIONS, days: int = DEFAULT_DAYS, start: datetime = DEFAULT_START
                 ) -> SampleSummary:
    """Generate and write `customers.jsonl.gz` and `mentions.jsonl.gz` into `out_dir` (created if missing).

    One JSON object per line with sorted keys, gzip with mtime 0: the same arguments give byte-identical files."""
    sample = build_sample(seed=seed, customers=customers, mentions=mentions, days=days, start=start)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, lines in ((CUSTOMERS_FILE, sample.customer_lines), (MENTIONS_FILE, sample.mention_lines)):
        data = _gzip(lines)
        tmp = out_dir / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out_dir / name)
        files[name] = len(data)
    return msgspec.structs.replace(sample.summary, files=files)




def iter_lines(path: Path) -> Iterator[bytes]:
    """Raw lines (bytes, without the newline) of a `.jsonl` or `.jsonl.gz` file; junk lines are passed on as is."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for line in fh:
            yield line.rstrip(b"\r\n")
