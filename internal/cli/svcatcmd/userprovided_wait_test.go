package svcatcmd

import (
	"strings"
	"testing"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// create user-provided --wait ends at once, with the controller's words,
// when only the user can make the instance Ready; a "not found" older than
// the Secret (the --param Secret is created just after the instance) and
// a state of an older spec do not end it.
func TestUserProvidedState(t *testing.T) {
	inst := func(observed int64, status v1beta1.ConditionStatus, reason, msg string) *v1beta1.ServiceInstance {
		in := &v1beta1.ServiceInstance{}
		in.Namespace, in.Name, in.Generation = "team-a", "orders-db", 1
		in.Status.ObservedGeneration = observed
		if reason != "" {
			in.Status.Conditions = []v1beta1.ServiceInstanceCondition{{Type: v1beta1.ServiceInstanceConditionReady, Status: status, Reason: reason, Message: msg}}
		}
		return in
	}
	const (
		notFound = `The Secret "db-creds" named in spec.userProvided.secretRef does not exist in namespace "team-a"; create it there`
		tooLarge = `The Secret "db-creds" holds 600000 bytes of keys and values, more than the 524288 bytes a user-provided instance takes`
	)
	f := v1beta1.ConditionFalse
	tests := []struct {
		name         string
		in           *v1beta1.ServiceInstance
		secretExists bool
		wantDone     bool
		wantErr      string
	}{
		{"no status yet", inst(0, "", "", ""), false, false, ""},
		{"ready", inst(1, v1beta1.ConditionTrue, v1beta1.ReasonUserProvidedSecretFound, `The credentials come from the Secret "db-creds"`), true, true, ""},
		{"Secret missing", inst(1, f, v1beta1.ReasonUserProvidedSecretNotFound, notFound), false, true,
			"instance team-a/orders-db is not Ready: UserProvidedSecretNotFound: " + notFound},
		{"missing when looked at, there now", inst(1, f, v1beta1.ReasonUserProvidedSecretNotFound, notFound), true, false, ""},
		{"Secret too large", inst(1, f, v1beta1.ReasonUserProvidedSecretTooLarge, tooLarge), true, true, "UserProvidedSecretTooLarge: " + tooLarge},
		{"parameters set", inst(1, f, v1beta1.ReasonUserProvidedParameters, v1beta1.MessageUserProvidedInstanceParameters), true, true,
			"UserProvidedParameters: spec.parameters is set"},
		{"a stall of an older spec", inst(0, f, v1beta1.ReasonUserProvidedSecretTooLarge, tooLarge), true, false, ""},
		{"a read failing is retried by the controller", inst(1, f, v1beta1.ReasonUserProvidedSecretUnreadable, `Cannot read the Secret "db-creds": boom`), true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := userProvidedState(tt.in, tt.secretExists)
			if st.Done != tt.wantDone || (tt.wantErr == "") != (st.Err == nil) || (st.Err != nil && !strings.Contains(st.Err.Error(), tt.wantErr)) {
				t.Errorf("userProvidedState = done %v err %v; want done %v err %q", st.Done, st.Err, tt.wantDone, tt.wantErr)
			}
		})
	}
}
