"""Kafka: client configuration for faust/aiokafka/kafka-python and the admin helpers."""
