package controller

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controller/brokercalls"
	"github.com/svcat-io/svcat/internal/controller/brokerclient"
	"github.com/svcat-io/svcat/internal/controller/stepresult"
	"github.com/svcat-io/svcat/internal/osb"
)

// The decision paths of instances and bindings, table-driven and without a
// control plane: every broker outcome of every operation, and of its
// last_operation poll, through the reconciler's own answer handling and
// stepresult.Apply, to the conditions, the Event's type, the requeue and
// orphan mitigation. The envtest suites show the same paths end to end for
// a few outcomes each; these show all of them, in milliseconds.

// answer is one broker outcome of a request: a success status, or an error.
type answer struct {
	name   string
	status int
	err    error
}

func httpErr(code int, errorCode string) error {
	return &osb.HTTPError{StatusCode: code, ErrorCode: errorCode, Description: "the broker says no"}
}

var requestOutcomes = []answer{
	{"200", 200, nil},
	{"201", 201, nil},
	{"202", 202, nil},
	{"400", 0, httpErr(400, "")},
	{"401", 0, httpErr(401, "")},
	{"403", 0, httpErr(403, "")},
	{"404", 0, httpErr(404, "")},
	{"409", 0, httpErr(409, "")},
	{"410", 0, httpErr(410, "")},
	{"422 ConcurrencyError", 0, httpErr(422, osb.ErrorCodeConcurrencyError)},
	{"422 AsyncRequired", 0, httpErr(422, osb.ErrorCodeAsyncRequired)},
	{"422 MaintenanceInfoConflict", 0, httpErr(422, osb.ErrorCodeMaintenanceInfoConflict)},
	{"500", 0, httpErr(500, "")},
	{"503", 0, httpErr(503, "")},
	{"timeout", 0, &osb.TransportError{Failure: osb.FailureTimeout, Err: errors.New("deadline exceeded")}},
	{"malformed 200", 0, &osb.MalformedResponseError{StatusCode: 200, Err: errors.New("unexpected EOF")}},
	{"malformed 201", 0, &osb.MalformedResponseError{StatusCode: 201, Err: errors.New("unexpected EOF")}},
	{"malformed 202", 0, &osb.MalformedResponseError{StatusCode: 202, Err: errors.New("unexpected EOF")}},
}

// The expected class of each outcome, per operation: D done, W waiting
// for an asynchronous operation, T transient (retried with backoff), F
// failed for good, M failed with orphan mitigation starting, G gone (the
// delete is done). Deletes are tested as orphan mitigation's, so G ends
// the mitigation. A delete answered 201 is not in OSB's table.
var requestClasses = map[osb.Operation]map[string]string{
	osb.OpProvision: {"200": "D", "201": "D", "202": "W", "400": "F", "401": "T", "403": "T", "404": "T", "409": "F", "410": "T",
		"422 ConcurrencyError": "T", "422 AsyncRequired": "F", "422 MaintenanceInfoConflict": "F", "500": "M", "503": "M", "timeout": "M",
		"malformed 200": "T", "malformed 201": "M", "malformed 202": "M"},
	osb.OpUpdate: {"200": "D", "201": "D", "202": "W", "400": "F", "401": "T", "403": "T", "404": "T", "409": "T", "410": "T",
		"422 ConcurrencyError": "T", "422 AsyncRequired": "F", "422 MaintenanceInfoConflict": "F", "500": "T", "503": "T", "timeout": "T",
		"malformed 200": "T", "malformed 201": "T", "malformed 202": "T"},
	osb.OpDeprovision: {"200": "G", "202": "W", "400": "T", "401": "T", "403": "T", "404": "T", "409": "T", "410": "G",
		"422 ConcurrencyError": "T", "422 AsyncRequired": "T", "422 MaintenanceInfoConflict": "T", "500": "T", "503": "T", "timeout": "T",
		"malformed 200": "T", "malformed 201": "T", "malformed 202": "T"},
	osb.OpBind: {"200": "D", "201": "D", "202": "W", "400": "F", "401": "T", "403": "T", "404": "T", "409": "F", "410": "T",
		"422 ConcurrencyError": "T", "422 AsyncRequired": "F", "422 MaintenanceInfoConflict": "F", "500": "M", "503": "M", "timeout": "M",
		"malformed 200": "T", "malformed 201": "M", "malformed 202": "M"},
	osb.OpUnbind: {"200": "G", "202": "W", "400": "T", "401": "T", "403": "T", "404": "T", "409": "T", "410": "G",
		"422 ConcurrencyError": "T", "422 AsyncRequired": "T", "422 MaintenanceInfoConflict": "T", "500": "T", "503": "T", "timeout": "T",
		"malformed 200": "T", "malformed 201": "T", "malformed 202": "T"},
}

// pollOutcomes are last_operation answers.
var pollOutcomes = []struct {
	name string
	lo   *osb.LastOperationResponse
	err  error
	// expired: the plan's maximum_polling_duration has passed, so no poll
	// is sent.
	expired bool
}{
	{name: "in progress", lo: &osb.LastOperationResponse{State: osb.StateInProgress}},
	{name: "succeeded", lo: &osb.LastOperationResponse{State: osb.StateSucceeded}},
	{name: "failed", lo: &osb.LastOperationResponse{State: osb.StateFailed, Description: "out of disk"}},
	{name: "410", err: httpErr(410, "")},
	{name: "500", err: httpErr(500, "")},
	{name: "timeout", err: &osb.TransportError{Failure: osb.FailureTimeout, Err: errors.New("deadline exceeded")}},
	{name: "malformed 200", err: &osb.MalformedResponseError{StatusCode: 200, Err: errors.New("unexpected EOF")}},
	{name: "maximum polling duration passed", expired: true},
}

// E marks the poll's own failure (ErrorPollingLastOperation, retried).
var pollClasses = map[osb.Operation]map[string]string{
	osb.OpProvision:   {"in progress": "W", "succeeded": "D", "failed": "FM", "410": "FM", "500": "E", "timeout": "E", "malformed 200": "E", "maximum polling duration passed": "FM"},
	osb.OpUpdate:      {"in progress": "W", "succeeded": "D", "failed": "F", "410": "F", "500": "E", "timeout": "E", "malformed 200": "E", "maximum polling duration passed": "F"},
	osb.OpDeprovision: {"in progress": "W", "succeeded": "G", "failed": "T", "410": "G", "500": "E", "timeout": "E", "malformed 200": "E", "maximum polling duration passed": "T"},
	osb.OpBind:        {"in progress": "W", "succeeded": "D", "failed": "FM", "410": "FM", "500": "E", "timeout": "E", "malformed 200": "E", "maximum polling duration passed": "FM"},
	osb.OpUnbind:      {"in progress": "W", "succeeded": "G", "failed": "T", "410": "G", "500": "E", "timeout": "E", "malformed 200": "E", "maximum polling duration passed": "T"},
}

// cond is a condition as the tables state it: the message is checked
// apart, for being there.
type cond struct{ Type, Status, Reason string }

// outcomeSeen is what a user sees after the step.
type outcomeSeen struct {
	Conditions []cond
	// Event is the type of the Ready condition's Event, "" when Ready did
	// not change.
	Event string
	// Requeue: "backoff" (an error), "now", "later" or "none".
	Requeue  string
	Mitigate bool
}

// The kinds' words, as the expectations need them.
type kindWords struct {
	ready, failed, mitigation string // condition types; mitigation "" for bindings
	done                      map[osb.Operation]string
	inProgress, callFailed    map[osb.Operation]string
	startMitigation, timeout  string
}

var instanceWords = kindWords{
	ready: "Ready", failed: "Failed", mitigation: "OrphanMitigation",
	done:            map[osb.Operation]string{osb.OpProvision: scv1beta1.ReasonProvisionedSuccessfully, osb.OpUpdate: scv1beta1.ReasonInstanceUpdatedSuccessfully},
	inProgress:      map[osb.Operation]string{osb.OpProvision: "Provisioning", osb.OpUpdate: "UpdatingInstance", osb.OpDeprovision: "Deprovisioning"},
	callFailed:      map[osb.Operation]string{osb.OpProvision: "ProvisionCallFailed", osb.OpUpdate: "UpdateInstanceCallFailed", osb.OpDeprovision: "DeprovisionCallFailed"},
	startMitigation: scv1beta1.ReasonStartingInstanceOrphanMitigation,
}

var bindingWords = kindWords{
	ready: "Ready", failed: "Failed",
	done:            map[osb.Operation]string{osb.OpBind: scv1beta1.ReasonInjectedBindResult},
	inProgress:      map[osb.Operation]string{osb.OpBind: "Binding", osb.OpUnbind: "Unbinding"},
	callFailed:      map[osb.Operation]string{osb.OpBind: "BindCallFailed", osb.OpUnbind: "UnbindCallFailed"},
	startMitigation: scv1beta1.ReasonServiceBindingNeedsOrphanMitigation,
	timeout:         scv1beta1.ReasonAsyncOperationTimeout,
}

// expect derives what a user sees from an outcome's class. before are the
// conditions the step starts from (orphan mitigation's for deletes).
func expect(w kindWords, op osb.Operation, class string, expired bool) outcomeSeen {
	f, m := "False", false
	mitigating := op == osb.OpDeprovision || op == osb.OpUnbind
	var out outcomeSeen
	ready := func(status, reason string) { out.Conditions = append(out.Conditions, cond{w.ready, status, reason}) }
	if mitigating && w.mitigation != "" {
		// Still True: the mitigation has not ended.
		out.Conditions = append(out.Conditions, cond{w.mitigation, "True", w.callFailed[osb.OpProvision]})
	}
	switch class {
	case "D":
		ready("True", w.done[op])
		out.Event, out.Requeue = "Normal", "none"
	case "W":
		ready(f, w.inProgress[op])
		out.Event, out.Requeue = "Normal", "later"
	case "T":
		ready(f, w.callFailed[op])
		out.Event, out.Requeue = "Warning", "backoff"
	case "E":
		ready(f, scv1beta1.ReasonErrorPollingLastOperation)
		out.Event, out.Requeue = "Warning", "backoff"
	case "F":
		ready(f, w.callFailed[op])
		out.Conditions = append(out.Conditions, cond{w.failed, "True", w.callFailed[op]})
		out.Event, out.Requeue = "Warning", "none"
	case "M", "FM":
		reason := w.callFailed[op]
		if expired && w.timeout != "" {
			reason = w.timeout
		}
		ready(f, w.startMitigation)
		if w.mitigation != "" {
			out.Conditions = append(out.Conditions, cond{w.mitigation, "True", reason})
		}
		if class == "FM" {
			out.Conditions = append(out.Conditions, cond{w.failed, "True", reason})
		}
		out.Event, out.Requeue, m = "Warning", "now", true
	case "G":
		ready(f, scv1beta1.ReasonOrphanMitigationSuccessful)
		if w.mitigation != "" {
			out.Conditions[0] = cond{w.mitigation, "False", scv1beta1.ReasonOrphanMitigationSuccessful}
		}
		out.Event, out.Requeue = "Normal", "later"
		mitigating = false
	}
	out.Mitigate = m || (mitigating && class != "G")
	sortConds(out.Conditions)
	return out
}

func sortConds(c []cond) { sort.Slice(c, func(i, j int) bool { return c[i].Type < c[j].Type }) }

func requeueOf(res ctrl.Result, err error) string {
	switch {
	case err != nil:
		return "backoff"
	case res.Requeue:
		return "now"
	case res.RequeueAfter > 0:
		return "later"
	}
	return "none"
}

// readyEvent returns the type of the Event recorded for reason.
func readyEvent(rec *events.FakeRecorder, reason string) string {
	typ := ""
	for {
		select {
		case e := <-rec.Events:
			if parts := strings.SplitN(e, " ", 3); len(parts) == 3 && parts[1] == reason {
				typ = parts[0]
			}
		default:
			return typ
		}
	}
}

var (
	decisionNow   = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	decisionMaxs  = int64(60)
	decisionProps = &scv1beta1.ServiceInstancePropertiesState{ClusterServicePlanExternalID: "plan-small"}
)

func decisionScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := scv1beta1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func decisionResolved() *resolved {
	return &resolved{
		broker:     brokerclient.Broker{Key: "ClusterServiceBroker/b", Spec: &scv1beta1.CommonServiceBrokerSpec{URL: "http://broker.example"}},
		brokerName: "b",
		class:      &scv1beta1.CommonServiceClassSpec{ExternalName: "kafka", ExternalID: "svc", BindingRetrievable: true},
		plan:       &scv1beta1.CommonServicePlanSpec{ExternalName: "small", ExternalID: "plan-small", MaximumPollingDuration: &decisionMaxs},
	}
}

// instanceFor is an instance in the state op starts from: a new one for a
// provision, a provisioned one for an update, one in orphan mitigation for
// a deprovision. asyncOp marks the operation in flight for a poll.
func instanceFor(op osb.Operation, async bool, started time.Time) *scv1beta1.ServiceInstance {
	inst := &scv1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "i", UID: types.UID("uid-i"), Generation: 1}}
	inst.Spec.ExternalID = "uid-i" // its own UID: a 409 needs no claim to be judged
	st := &inst.Status
	at := metav1.NewTime(started)
	switch op {
	case osb.OpProvision:
		st.CurrentOperation = scv1beta1.ServiceInstanceOperationProvision
	case osb.OpUpdate:
		st.ProvisionStatus = scv1beta1.ServiceInstanceProvisionStatusProvisioned
		st.ExternalProperties = decisionProps
		st.SetCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionTrue, scv1beta1.ReasonProvisionedSuccessfully, "m", at)
		st.CurrentOperation = scv1beta1.ServiceInstanceOperationUpdate
	case osb.OpDeprovision:
		st.OrphanMitigationInProgress = true
		st.DeprovisionStatus = scv1beta1.ServiceInstanceDeprovisionStatusRequired
		st.SetCondition(scv1beta1.ServiceInstanceConditionOrphanMitigation, scv1beta1.ConditionTrue, scv1beta1.ReasonProvisionCallFailed, "m", at)
		st.SetCondition(scv1beta1.ServiceInstanceConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonStartingInstanceOrphanMitigation, "m", at)
		st.CurrentOperation = scv1beta1.ServiceInstanceOperationDeprovision
	}
	if async {
		st.AsyncOpInProgress = true
		st.OperationStartTime = &at
	} else {
		st.CurrentOperation = ""
	}
	return inst
}

func bindingFor(op osb.Operation, async bool, started time.Time) *scv1beta1.ServiceBinding {
	b := &scv1beta1.ServiceBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b", UID: types.UID("uid-b"), Generation: 1}}
	b.Spec.ExternalID, b.Spec.SecretName, b.Spec.InstanceRef.Name = "uid-b", "b", "i"
	st := &b.Status
	at := metav1.NewTime(started)
	if op == osb.OpUnbind {
		st.OrphanMitigationInProgress = true
		st.UnbindStatus = scv1beta1.ServiceBindingUnbindStatusRequired
		st.SetCondition(scv1beta1.ServiceBindingConditionReady, scv1beta1.ConditionFalse, scv1beta1.ReasonServiceBindingNeedsOrphanMitigation, "m", at)
	}
	if async {
		st.AsyncOpInProgress = true
		st.OperationStartTime = &at
		st.CurrentOperation = scv1beta1.ServiceBindingOperationBind
		if op == osb.OpUnbind {
			st.CurrentOperation = scv1beta1.ServiceBindingOperationUnbind
		}
	}
	return b
}

func seenInstance(inst *scv1beta1.ServiceInstance, rec *events.FakeRecorder, res ctrl.Result, err error) outcomeSeen {
	var out outcomeSeen
	for _, c := range inst.Status.Conditions {
		out.Conditions = append(out.Conditions, cond{string(c.Type), string(c.Status), c.Reason})
	}
	sortConds(out.Conditions)
	if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c != nil {
		out.Event = readyEvent(rec, c.Reason)
	}
	out.Requeue, out.Mitigate = requeueOf(res, err), inst.Status.OrphanMitigationInProgress
	return out
}

func seenBinding(b *scv1beta1.ServiceBinding, rec *events.FakeRecorder, res ctrl.Result, err error) outcomeSeen {
	var out outcomeSeen
	for _, c := range b.Status.Conditions {
		out.Conditions = append(out.Conditions, cond{string(c.Type), string(c.Status), c.Reason})
	}
	sortConds(out.Conditions)
	if c := b.Status.GetCondition(scv1beta1.ServiceBindingConditionReady); c != nil {
		out.Event = readyEvent(rec, c.Reason)
	}
	out.Requeue, out.Mitigate = requeueOf(res, err), b.Status.OrphanMitigationInProgress
	return out
}

func instanceReconcilerForTest(t *testing.T) (*InstanceReconciler, *events.FakeRecorder) {
	rec := events.NewFakeRecorder(20)
	c := fake.NewClientBuilder().WithScheme(decisionScheme(t)).Build()
	return &InstanceReconciler{Client: c, APIReader: c, Recorder: rec, Now: func() time.Time { return decisionNow }}, rec
}

func bindingReconcilerForTest(t *testing.T) (*BindingReconciler, *events.FakeRecorder) {
	rec := events.NewFakeRecorder(20)
	c := fake.NewClientBuilder().WithScheme(decisionScheme(t)).Build()
	return &BindingReconciler{Client: c, APIReader: c, Recorder: rec, Now: func() time.Time { return decisionNow }}, rec
}

func checkSeen(t *testing.T, want, got outcomeSeen, messages []string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, m := range messages {
		if m == "" {
			t.Errorf("a condition has no message")
		}
	}
}

func instanceMessages(inst *scv1beta1.ServiceInstance) (out []string) {
	for _, c := range inst.Status.Conditions {
		out = append(out, c.Message)
	}
	return out
}

func bindingMessages(b *scv1beta1.ServiceBinding) (out []string) {
	for _, c := range b.Status.Conditions {
		out = append(out, c.Message)
	}
	return out
}

func TestInstanceRequestOutcomes(t *testing.T) {
	ctx := context.Background()
	for _, op := range []osb.Operation{osb.OpProvision, osb.OpUpdate, osb.OpDeprovision} {
		for _, a := range requestOutcomes {
			class, ok := requestClasses[op][a.name]
			if !ok {
				continue
			}
			t.Run(string(op)+" "+a.name, func(t *testing.T) {
				r, rec := instanceReconcilerForTest(t)
				inst := instanceFor(op, false, decisionNow)
				s := &instanceStep{inst: inst, res: decisionResolved(), now: metav1.NewTime(decisionNow), gen: 1}
				sent := instanceSent{generation: 1, props: decisionProps, started: s.now}
				info := osb.ResponseInfo{StatusCode: a.status}
				var res stepresult.Result
				switch op {
				case osb.OpProvision:
					res = r.provisionAnswered(ctx, s, brokercalls.Result[*osb.InstanceResponse]{Value: &osb.InstanceResponse{ResponseInfo: info}, Err: a.err, Sent: sent})
				case osb.OpUpdate:
					res = r.updateAnswered(s, brokercalls.Result[*osb.InstanceResponse]{Value: &osb.InstanceResponse{ResponseInfo: info}, Err: a.err, Sent: sent})
				case osb.OpDeprovision:
					res = r.deprovisionAnswered(ctx, s, brokercalls.Result[*osb.DeprovisionResponse]{Value: &osb.DeprovisionResponse{ResponseInfo: info}, Err: a.err, Sent: sent})
				}
				out, err := stepresult.Apply(res, instanceStatus{s}, r.Recorder, inst, &s.discard)
				checkSeen(t, expect(instanceWords, op, class, false), seenInstance(inst, rec, out, err), instanceMessages(inst))
			})
		}
	}
}

func TestBindingRequestOutcomes(t *testing.T) {
	ctx := context.Background()
	for _, op := range []osb.Operation{osb.OpBind, osb.OpUnbind} {
		for _, a := range requestOutcomes {
			class, ok := requestClasses[op][a.name]
			if !ok {
				continue
			}
			t.Run(string(op)+" "+a.name, func(t *testing.T) {
				r, rec := bindingReconcilerForTest(t)
				b := bindingFor(op, false, decisionNow)
				s := &bindingStep{b: b, res: decisionResolved(), now: metav1.NewTime(decisionNow),
					inst: &scv1beta1.ServiceInstance{Spec: scv1beta1.ServiceInstanceSpec{ExternalID: "uid-i"}}}
				sent := bindingSent{started: s.now}
				info := osb.ResponseInfo{StatusCode: a.status}
				var res stepresult.Result
				switch op {
				case osb.OpBind:
					resp := &osb.BindResponse{ResponseInfo: info}
					resp.Credentials = map[string]any{"user": "u"}
					res = r.bindAnswered(ctx, s, brokercalls.Result[*osb.BindResponse]{Value: resp, Err: a.err, Sent: sent})
				case osb.OpUnbind:
					res = r.unbindAnswered(ctx, s, brokercalls.Result[*osb.UnbindResponse]{Value: &osb.UnbindResponse{ResponseInfo: info}, Err: a.err, Sent: sent})
				}
				out, err := stepresult.Apply(res, bindingStatus{s}, r.Recorder, b, &s.discard)
				checkSeen(t, expect(bindingWords, op, class, false), seenBinding(b, rec, out, err), bindingMessages(b))
			})
		}
	}
}

func TestInstancePollOutcomes(t *testing.T) {
	ctx := context.Background()
	for _, op := range []osb.Operation{osb.OpProvision, osb.OpUpdate, osb.OpDeprovision} {
		for _, p := range pollOutcomes {
			class := pollClasses[op][p.name]
			t.Run(string(op)+" "+p.name, func(t *testing.T) {
				r, rec := instanceReconcilerForTest(t)
				started := decisionNow.Add(-time.Second)
				if p.expired {
					started = decisionNow.Add(-2 * time.Minute)
				}
				inst := instanceFor(op, true, started)
				inst.Status.InProgressProperties = decisionProps
				s := &instanceStep{inst: inst, res: decisionResolved(), now: metav1.NewTime(decisionNow), gen: 1}
				answered := brokercalls.Done
				if p.expired {
					answered = brokercalls.None
				}
				res := r.polled(ctx, s, brokercalls.Result[*osb.LastOperationResponse]{Value: p.lo, Err: p.err}, answered)
				out, err := stepresult.Apply(res, instanceStatus{s}, r.Recorder, inst, &s.discard)
				checkSeen(t, expect(instanceWords, op, class, p.expired), seenInstance(inst, rec, out, err), instanceMessages(inst))
			})
		}
	}
}

func TestBindingPollOutcomes(t *testing.T) {
	ctx := context.Background()
	for _, op := range []osb.Operation{osb.OpBind, osb.OpUnbind} {
		for _, p := range pollOutcomes {
			class := pollClasses[op][p.name]
			t.Run(string(op)+" "+p.name, func(t *testing.T) {
				r, rec := bindingReconcilerForTest(t)
				started := decisionNow.Add(-time.Second)
				if p.expired {
					started = decisionNow.Add(-2 * time.Minute)
				}
				b := bindingFor(op, true, started)
				s := &bindingStep{b: b, res: decisionResolved(), now: metav1.NewTime(decisionNow),
					inst: &scv1beta1.ServiceInstance{Spec: scv1beta1.ServiceInstanceSpec{ExternalID: "uid-i"}}}
				answered := brokercalls.Done
				if p.expired {
					answered = brokercalls.None
				}
				v := bindingPoll{lo: p.lo}
				if p.lo != nil && p.lo.State == osb.StateSucceeded && op == osb.OpBind {
					v.got = &osb.GetBindingResponse{}
					v.got.Credentials = map[string]any{"user": "u"}
				}
				res := r.polled(ctx, s, brokercalls.Result[bindingPoll]{Value: v, Err: p.err}, answered)
				out, err := stepresult.Apply(res, bindingStatus{s}, r.Recorder, b, &s.discard)
				checkSeen(t, expect(bindingWords, op, class, p.expired), seenBinding(b, rec, out, err), bindingMessages(b))
			})
		}
	}
}

// A bind whose poll succeeded but whose GET of the binding failed is
// retried with FetchingBindingFailed, v0.3's reason.
func TestBindingPollSucceededGetFailed(t *testing.T) {
	r, rec := bindingReconcilerForTest(t)
	b := bindingFor(osb.OpBind, true, decisionNow.Add(-time.Second))
	s := &bindingStep{b: b, res: decisionResolved(), now: metav1.NewTime(decisionNow),
		inst: &scv1beta1.ServiceInstance{Spec: scv1beta1.ServiceInstanceSpec{ExternalID: "uid-i"}}}
	v := bindingPoll{lo: &osb.LastOperationResponse{State: osb.StateSucceeded}, getErr: httpErr(500, "")}
	res := r.polled(context.Background(), s, brokercalls.Result[bindingPoll]{Value: v}, brokercalls.Done)
	out, err := stepresult.Apply(res, bindingStatus{s}, r.Recorder, b, &s.discard)
	want := outcomeSeen{Conditions: []cond{{"Ready", "False", scv1beta1.ReasonFetchingBindingFailed}}, Event: "Warning", Requeue: "backoff"}
	checkSeen(t, want, seenBinding(b, rec, out, err), bindingMessages(b))
}

// The Event's type follows the result's class alone.
func TestEventTypeFollowsTheClass(t *testing.T) {
	for _, tc := range []struct {
		res  stepresult.Result
		want string
	}{
		{stepresult.Ready("R", "m"), corev1.EventTypeNormal},
		{stepresult.Wait("R", "m", 0), corev1.EventTypeNormal},
		{stepresult.Retry("R", "m", nil), corev1.EventTypeWarning},
		{stepresult.Stall("R", "m"), corev1.EventTypeWarning},
		{stepresult.Fail("R", "m"), corev1.EventTypeWarning},
	} {
		rec := events.NewFakeRecorder(5)
		inst := &scv1beta1.ServiceInstance{}
		s := &instanceStep{inst: inst, now: metav1.NewTime(decisionNow)}
		if _, _ = stepresult.Apply(tc.res, instanceStatus{s}, rec, inst, &s.discard); readyEvent(rec, "R") != tc.want {
			t.Errorf("%v: event type not %s", tc.res.Class, tc.want)
		}
	}
}
