"""The sample's vocabulary: post templates per intent and channel, foreign-language posts, names, places and things."""
from __future__ import annotations

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
ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
