"""Person-to-person replies for training and evaluating the complaint model (pure, seeded).

The labelled dev data has almost no replies between people, so a model trained on it alone learns "starts with an
@handle" as a complaint cue. These functions make such replies, all non-complaints (label 0):
  * `general`: each general-stream row (a domain without any complaint, e.g. random_tweet) as a reply to a person:
    "@<person> " + text;
  * `brand_non_complaint`: each non-complaint of a brand domain with its brand and care handles removed, as a reply to
    a person ("@<person> can I return online purchases …");
  * `conversation`: hand-written reply-shaped conversation texts (`CONVERSATIONS`), sympathy, chat and venting
    included, each with one or two person handles.
Every reply remembers its `source` row (-1 for a conversation text), so a training script can keep a reply in its
source row's fold and nothing leaks between train and test folds. Person handles never look like a brand's or a
care account's (they would make the text addressed by definition).
"""
from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Final

import msgspec

from pipeline.domain.brands import CARE_HANDLE_RE, HANDLE_RE, Brands

KINDS: Final[tuple[str, ...]] = ("general", "brand_non_complaint", "conversation")
#: A reply needs this many characters of its own besides the handles.
MIN_BODY: Final[int] = 8

_FIRST_NAMES: Final[tuple[str, ...]] = tuple(
    "jo sam alex chris jamie taylor jordan casey morgan riley max charlie ellie sophie emma olivia liam noah mia "
    "lucas ava ben amelia harry grace jack lily leo chloe oscar ruby theo isla finn zoe ethan maya ryan nina "
    "aisha omar priya raj mei kenji sofia diego lucia mateo ana luca giulia jonas lena tom kate dan beth rob "
    "laura mike jess nick amy pete hannah matt sarah dave anna paul kim steve lisa will emily".split()
)
_SURNAMES: Final[tuple[str, ...]] = tuple(
    "smith jones brown wilson taylor evans thomas roberts walker wright hall green lewis clarke patel khan "
    "garcia rossi muller silva kowalski nguyen kim lee".split()
)

#: Replies people write to people (no brand addressed); `{name}` is a first name.
CONVERSATIONS: Final[tuple[str, ...]] = (
    "that's the worst, hope you feel better soon",
    "oh no, I'm so sorry to hear that. sending hugs",
    "ugh that sucks, let me know if you need anything",
    "noooo not your car again 😭 hope it's cheap to fix",
    "lol same, my week has been a disaster too",
    "that's awful, is your mum ok?",
    "I can't believe he said that to you. unbelievable",
    "worst ref I've ever seen, we were robbed",
    "that match was painful to watch honestly",
    "we lost again?? I give up on this team",
    "haha no way, you did not",
    "congrats!! so happy for you 🎉",
    "happy birthday!! have the best day",
    "see you at 7, don't be late this time 😂",
    "can't wait for saturday, it's going to be brilliant",
    "are you still coming tonight?",
    "did you watch the finale? I'm not ok",
    "this weather is miserable, stay dry",
    "it's been raining for three days straight here, I'm losing my mind",
    "freezing here too, the heating in our flat is useless",
    "I'm so tired of this heat, can't sleep at all",
    "honestly the exam was brutal, I think I failed",
    "don't worry about it, you'll smash the next one",
    "you're not alone, everyone hated that exam",
    "my laptop died in the middle of my essay, I want to cry",
    "nightmare. did you at least save a copy?",
    "that's so annoying, I'd be fuming",
    "I'm still mad about that ending",
    "the sequel was terrible, don't bother",
    "that movie was so bad we walked out",
    "worst two hours of my life, never again",
    "no spoilers please!! I haven't seen it yet",
    "miss you loads, come visit soon",
    "thanks for tonight, had the best time",
    "thank you so much, you're a star",
    "that's hilarious 😂😂",
    "I'm crying, this is too funny",
    "wait what happened?? call me",
    "ok that's actually terrifying",
    "sorry I missed your call, was stuck in traffic for ages",
    "running late, the bus never came, sorry!!",
    "I've been waiting outside for 20 mins where are you lol",
    "still waiting for you to text me back 👀",
    "you never replied to my message!!",
    "why didn't you tell me?? I would've come",
    "how come you never invite me anymore",
    "what time does it start again?",
    "can you send me the photos from last night?",
    "do you know if {name} is coming?",
    "where did you get that jacket? it's so nice",
    "is it true you're moving to Leeds?",
    "how's the new job going?",
    "how are you feeling today? any better?",
    "poor you, flu is the worst",
    "get well soon, rest up",
    "sorry for your loss, thinking of you all",
    "that's heartbreaking. I'm so sorry",
    "ugh Mondays. hang in there",
    "I hate when that happens, so frustrating",
    "this is ridiculous, you deserve better than him",
    "he's a joke honestly, ignore him",
    "totally agree, it's a disgrace how they treat nurses",
    "the government is useless, nothing ever changes",
    "politics is exhausting, I'm logging off",
    "that's not what I said at all",
    "you're wrong and you know it 😂",
    "fair point, I hadn't thought of that",
    "no you're thinking of the other one",
    "I think you're overreacting a bit tbh",
    "we should definitely do that again",
    "count me in!",
    "yes please, I'll bring snacks",
    "I'm down, what time?",
    "love this, so proud of you",
    "you look amazing in that pic",
    "omg your dog is adorable",
    "my cat knocked my coffee over again 🙄",
    "the kids have been a nightmare all day",
    "toddlers are exhausting, you're doing great",
    "my back is killing me after that run",
    "I'm never running a marathon again, my legs are broken",
    "same, my knee is still bad from last week",
    "the gym was packed, gave up and went home",
    "I burnt dinner again, cereal it is",
    "that recipe was a disaster lol, thanks for trying",
    "the cake looks amazing!!",
    "I'm so bored, entertain me",
    "can't sleep, anyone else awake?",
    "it's 3am why are we still talking about this",
    "I lost my keys again, third time this month 🤦",
    "I broke my phone screen, so clumsy",
    "my flat is a mess, don't judge me",
    "moving house is hell, never again",
    "good luck tomorrow, you've got this",
    "fingers crossed for you!",
    "did you get the job?? tell me everything",
    "that interview sounds awful, their loss",
    "I'm gutted for you, you worked so hard",
    "don't let them get to you",
    "she's been ignoring me all week, no idea why",
    "I waited two hours and he never showed up",
    "he cancelled on me again, last time I make plans with him",
    "my sister borrowed my car and now it's making a weird noise",
    "the party was a bit of a letdown tbh",
    "the concert got rained off, so disappointed",
    "the queue for the ride was two hours, not worth it",
    "traffic on the way home was horrendous",
    "my train home was so crowded I couldn't breathe lol",
    "the neighbours are drilling again at 8am on a sunday",
    "the wifi at my parents' is so slow, I can't work here",
    "my phone battery is dying, text you later",
    "autocorrect ruined that message sorry",
    "I didn't get your email, can you resend?",
    "did you see what {name} posted? yikes",
    "{name} said the same thing lol",
    "tell {name} I said hi!",
    "ask {name}, she knows",
    "not again!! why does this always happen to you",
    "this is so unfair, you didn't deserve that",
    "what a terrible day, tomorrow will be better",
    "I'm so stressed about the deadline",
    "the assignment is impossible, I've been stuck for hours",
    "honestly the worst week, can it be friday already",
    "mood",
    "this is so true",
    "exactly what I was thinking",
    "thanks for the advice, really helped",
    "thank you for listening yesterday, means a lot",
    "appreciate you ❤️",
    "I'll never forgive you for that spoiler",
    "still not over that goal, what a finish",
    "we were terrible in the second half",
    "the new season is so boring so far",
    "they should fire the manager already",
    "that joke was awful, I love it",
    "you're ridiculous 😂",
    "stop it, I can't breathe",
    "I'm so sorry, that was my fault",
    "no worries at all!",
    "all good, don't stress",
    "sounds like a nightmare, glad you're home safe",
    "hope the surgery goes well tomorrow",
    "that's such bad luck, so sorry",
    "can't believe the holiday got ruined by the storm",
    "wish I was there with you",
)


class Reply(msgspec.Struct, frozen=True):
    """One synthetic person-to-person reply (label 0): `source` is the index of the row it was made from, -1 for
    a conversation text (`index` into CONVERSATIONS then)."""

    text: str
    kind: str
    source: int
    index: int


def person_handle(rng: random.Random, brands: Brands) -> str:
    """A random person's @handle that is neither a brand's handle (on any channel) nor looks like a care account."""
    while True:
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_SURNAMES)
        shape = rng.randrange(5)
        name = (first, first + last[0], f"{first}_{last}", f"{first}{rng.randint(1, 99)}", first.capitalize()
                + last.capitalize())[shape]
        handle = "@" + name
        if CARE_HANDLE_RE.match(handle) is None and name.lower() not in brands.all_handles:
            return handle


def strip_brand_handles(text: str, brands: Brands, channel: str = "twitter") -> str:
    """`text` with the brands' and care accounts' handles (and a "." or ":" stuck to them) removed."""
    table = brands.handles_for(channel)

    def drop(match: re.Match[str]) -> str:
        handle = match.group(0)
        return " " if handle[1:].lower() in table or CARE_HANDLE_RE.match(handle) else handle

    stripped = HANDLE_RE.sub(drop, text)
    return " ".join(stripped.replace(" .", " ").replace(" :", " ").split()).lstrip(".:, ")


def reply_text(body: str, rng: random.Random, brands: Brands) -> str:
    """`body` as a reply to one person (four in five) or two people."""
    handles = person_handle(rng, brands)
    if rng.random() < 0.2:
        handles += " " + person_handle(rng, brands)
    return f"{handles} {body}"


def person_replies(
    texts: Sequence[str], labels: Sequence[int], domains: Sequence[str], brands: Brands, seed: int = 0
) -> list[Reply]:
    """The synthetic replies (see the module doc) made from labelled rows (`texts`, `labels`, `domains` aligned) and
    CONVERSATIONS; `brands` are the brand accounts of the rows' domains. Deterministic for a `seed`."""
    rng = random.Random(seed)
    brand_domains = {d for d, y in zip(domains, labels) if y == 1}
    out: list[Reply] = []
    for i, (text, label, domain) in enumerate(zip(texts, labels, domains)):
        if label:
            continue
        if domain not in brand_domains:
            out.append(Reply(reply_text(text, rng, brands), "general", i, i))
            continue
        body = strip_brand_handles(text, brands)
        if len(body) >= MIN_BODY and not brands.addressed(body, "twitter"):
            out.append(Reply(reply_text(body, rng, brands), "brand_non_complaint", i, i))
    for j, body in enumerate(CONVERSATIONS):
        body = body.replace("{name}", rng.choice(_FIRST_NAMES).capitalize())
        out.append(Reply(reply_text(body, rng, brands), "conversation", -1, j))
    return out
