"""The four fictional brands of the sample, each with its complaint issues, praise, questions and neutral posts."""
from __future__ import annotations

from dataclasses import dataclass


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
BRAND_BY_NAME = {b.name: b for b in BRANDS}
