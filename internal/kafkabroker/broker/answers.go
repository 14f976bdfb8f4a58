package broker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"code.cloudfoundry.org/brokerapi/v13/domain/apiresponses"
	"github.com/twmb/franz-go/pkg/kerr"
)

// answer decides what a failed request tells the platform. The broker's own
// answers (FailureResponses) are written for the requester and name only
// what the request named. Any other error comes from Kafka or the state
// topic and can name topics, users and prefixes, of this tenant or, behind
// a stolen ID, of another one; platforms copy error descriptions into
// places tenants read (svcat: conditions and Events). So such an error is
// logged in full and answered as a 500 that says only what kind of failure
// it was. Call it deferred, with the method's named error.
func (b *Broker) answer(errp *error, op, instanceID string) {
	err := *errp
	if err == nil {
		return
	}
	var fr *apiresponses.FailureResponse
	if errors.As(err, &fr) {
		*errp = fr // brokerapi recognises them only unwrapped
		return
	}
	b.log.Error(op+" failed", slog.String("instance", instanceID), slog.Any("error", err))
	*errp = apiresponses.NewFailureResponse(
		errors.New(op+" (instance "+instanceID+") failed: "+publicReason(err)+seeLog),
		http.StatusInternalServerError, "internal-error")
}

// publicReason names the kind of a failure without any name or value from
// Kafka: the first Kafka error code in err (codes such as
// TOPIC_AUTHORIZATION_FAILED tell an operator what to fix), or whether the
// operation ran out of time.
func publicReason(err error) string {
	var ke *kerr.Error
	switch {
	case errors.As(err, &ke):
		return "Kafka answered " + ke.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "the operation timed out"
	}
	return genericReason
}

// The public reason when nothing more may be said, and where to look for
// the rest.
const (
	genericReason = "a Kafka or state-topic call failed"
	seeLog        = "; the broker's log has the details"
)
