"""One Kafka action with kafka-python, configured from a binding Secret's
keys (passed as environment variables). Prints "OK <detail>" or
"ERROR <error name>: <message>"; the Go test reads that line. kafka-python's
own log goes to stderr."""
import logging
import os
import sys

from kafka import KafkaConsumer, KafkaProducer

logging.basicConfig(stream=sys.stderr, level=getattr(logging, os.environ.get("KAFKA_PYTHON_LOG", "INFO")))
env = os.environ.get
common = dict(
    bootstrap_servers=env("KAFKA_BROKERS").split(","),
    security_protocol=env("KAFKA_SECURITY_PROTOCOL"),
    sasl_mechanism=env("KAFKA_SASL_MECHANISM"),
    sasl_plain_username=env("KAFKA_USERNAME"),
    sasl_plain_password=env("KAFKA_PASSWORD"),
    ssl_cafile=env("KAFKA_CA_FILE"),
    client_id="svcat-kafkaclients",
)


def produce():
    p = KafkaProducer(**common, max_block_ms=5000)
    try:
        p.send(env("TOPIC"), env("MESSAGE").encode()).get(timeout=10)
        return "produced"
    finally:
        p.close(timeout=5)


def consume():
    c = KafkaConsumer(env("TOPIC"), group_id=env("GROUP"), auto_offset_reset="earliest",
                      consumer_timeout_ms=15000, **common)
    try:
        for m in c:
            if m.value.decode() == env("MESSAGE"):
                c.commit()
                return "consumed " + m.value.decode()
        return "nothing consumed"
    finally:
        c.close()


try:
    print("OK " + {"produce": produce, "consume": consume}[env("ACTION")]())
except Exception as e:  # the test reads the kind of failure
    print("ERROR %s: %s" % (type(e).__name__, e))
