package controller

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/paramwatch"
)

// Flags of the parameter Secret watches, named in the messages of
// instances whose Secrets they leave unwatched.
const (
	FlagParameterSecretWatches             = "parameter-secret-watches"
	FlagParameterSecretWatchesPerNamespace = "parameter-secret-watches-per-namespace"
)

// unwatchedNamesShown bounds the names quoted in the condition: a tenant
// may name thousands, and the message must stay readable and small.
const unwatchedNamesShown = 5

// noteUnwatchedSecrets keeps the ParameterSecretsWatched condition in step
// with the watcher: False while a limit leaves some of the instance's
// parameter Secrets unwatched, absent otherwise. The condition advises, as
// UpgradeAvailable does, so Ready stays the last one. Its first appearance
// is also an Event, so that `kubectl get events` tells too.
func (r *InstanceReconciler) noteUnwatchedSecrets(s *instanceStep, u paramwatch.Unwatched) {
	st := &s.inst.Status
	if len(u.Names) == 0 {
		st.RemoveCondition(scv1beta1.ServiceInstanceConditionParameterSecretsWatched)
		return
	}
	msg := unwatchedMessage(s.inst.Namespace, s.inst.Name, u)
	isNew := st.GetCondition(scv1beta1.ServiceInstanceConditionParameterSecretsWatched) == nil
	st.SetAdvisoryCondition(scv1beta1.ServiceInstanceConditionParameterSecretsWatched, scv1beta1.ConditionFalse,
		scv1beta1.ReasonParameterSecretsNotWatched, msg, s.now)
	if isNew && r.Recorder != nil {
		r.Recorder.Eventf(s.inst, nil, corev1.EventTypeWarning, scv1beta1.ReasonParameterSecretsNotWatched, "WatchParameterSecrets", "%s", msg)
	}
}

// unwatchedMessage names the unwatched Secrets (a few of them), the limit
// and its flag, and what to do. It carries names only: the watcher never
// reads a value.
func unwatchedMessage(namespace, instance string, u paramwatch.Unwatched) string {
	quoted := make([]string, 0, unwatchedNamesShown)
	for i, n := range u.Names {
		if i == unwatchedNamesShown {
			break
		}
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	names := strings.Join(quoted, ", ")
	if more := len(u.Names) - len(quoted); more > 0 {
		names += fmt.Sprintf(" and %d more", more)
	}
	var limit string
	if u.Limit == paramwatch.PerNamespaceLimit {
		limit = fmt.Sprintf(scv1beta1.MessageParameterSecretsNamespaceLimitFormat, namespace, u.Max, FlagParameterSecretWatchesPerNamespace)
	} else {
		limit = fmt.Sprintf(scv1beta1.MessageParameterSecretsTotalLimitFormat, u.Max, FlagParameterSecretWatches, namespace, u.Held)
	}
	return fmt.Sprintf(scv1beta1.MessageParameterSecretsNotWatchedFormat, len(u.Names), names, limit, instance)
}
