#!/bin/sh
# One Kafka action with kcat (librdkafka), configured from a binding
# Secret's keys (passed as environment variables). Prints "OK <detail>" or
# "ERROR <what kcat said>"; the Go test reads that line.
set -u
conf() {
	# The Secret's keys as librdkafka properties.
	echo "-X bootstrap.servers=$KAFKA_BROKERS -X security.protocol=$KAFKA_SECURITY_PROTOCOL" \
		"-X sasl.mechanisms=$KAFKA_SASL_MECHANISM -X sasl.username=$KAFKA_USERNAME" \
		"-X sasl.password=$KAFKA_PASSWORD -X ssl.ca.location=$KAFKA_CA_FILE"
}
err=$(mktemp)
trap 'rm -f "$err"' EXIT
case "$ACTION" in
produce)
	# -X topic.message.timeout.ms: a refused produce fails within 10s
	# instead of librdkafka's 5 minutes.
	if printf '%s\n' "$MESSAGE" | kcat $(conf) -X message.timeout.ms=10000 -P -t "$TOPIC" 2>"$err"; then
		echo "OK produced"
	else
		cat "$err" >&2
		echo "ERROR $(grep -m1 -E '^% (ERROR|Delivery failed)' "$err")"
	fi
	;;
consume)
	# -c 1: stop after the first message; a group that is refused never
	# gets one, so the wait is bounded.
	got=$(timeout 20 kcat $(conf) -X auto.offset.reset=earliest -G "$GROUP" -c 1 -f '%s\n' "$TOPIC" 2>"$err")
	cat "$err" >&2
	if [ "$got" = "$MESSAGE" ]; then
		echo "OK consumed $got"
	else
		echo "ERROR $(grep -m1 -E '^% (ERROR|Delivery failed)' "$err")"
	fi
	;;
esac
