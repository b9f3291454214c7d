"""The complaint model: cue lexicon, features and the logistic model with its shipped weights."""
