package doctorcmd

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/controllermanager/testcontroller"
	"github.com/svcat-io/svcat/internal/doctor"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// startController runs the real catalog controller with leader election in
// ns, as its Deployment would, and returns a function that stops it.
func startController(t *testing.T, env *localcluster.Env, ns string) (stop func()) {
	t.Helper()
	opts := testcontroller.Options()
	opts.LeaderElect, opts.LeaderElectionNamespace = true, ns
	return testcontroller.StartForTest(t, env, opts)
}

// removeAtEnd deletes a broker when the test ends, without waiting for a
// controller to remove its finalizer: the controller may be stopped by then,
// and later tests must not see the broker.
func removeAtEnd(t *testing.T, env *localcluster.Env, obj client.Object) {
	t.Cleanup(func() {
		ctx := context.Background()
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return
		}
		obj.SetFinalizers(nil)
		if err := env.Client.Update(ctx, obj); err != nil {
			t.Errorf("removing finalizers: %v", err)
		}
		if err := env.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s: %v", obj.GetName(), err)
		}
	})
}

// eventually polls cond for up to a minute: a loaded machine reconciles
// slowly, but not that slowly.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func brokerReady(conds []v1beta1.ServiceBrokerCondition, status v1beta1.ConditionStatus) bool {
	for _, c := range conds {
		if c.Type == v1beta1.ServiceBrokerConditionReady {
			return c.Status == status
		}
	}
	return false
}

func doctorJSON(t *testing.T, kubeconfig string, args ...string) (doctor.Report, error) {
	t.Helper()
	out, err := runDoctor(t, kubeconfig, append([]string{"-o", "json"}, args...)...)
	var r doctor.Report
	if jerr := json.Unmarshal([]byte(out), &r); jerr != nil {
		t.Fatalf("doctor -o json: %v\n%s", jerr, out)
	}
	return r, err
}

// TestCatalog runs doctor on a catalog with the real controller and a
// test broker: all ok; then with a broker that cannot be reached and the
// controller stopped: errors, and a non-nil error for the exit status.
func TestCatalog(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	// A namespace of its own for the controller's lease, so that runs do
	// not see each other's leases.
	ns := env.Namespace(t)
	nsFlag := []string{"--controller-namespace", ns}
	broker := testbroker.Start(t, testbroker.Options{})
	auth := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "broker-auth"},
		StringData: map[string]string{"username": testbroker.DefaultUsername, "password": testbroker.DefaultPassword}}
	if err := env.Client.Create(ctx, auth); err != nil {
		t.Fatal(err)
	}
	stop := startController(t, env, ns)
	csb := &v1beta1.ClusterServiceBroker{ObjectMeta: metav1.ObjectMeta{GenerateName: "doctor-test-"}}
	csb.Spec.URL = broker.URL()
	csb.Spec.AuthInfo = &v1beta1.ClusterServiceBrokerAuthInfo{Basic: &v1beta1.ClusterBasicAuthConfig{
		SecretRef: &v1beta1.ObjectReference{Namespace: ns, Name: "broker-auth"}}}
	if err := env.Client.Create(ctx, csb); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, env, csb)
	eventually(t, "the broker to be Ready", func() bool {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(csb), csb)
		return err == nil && brokerReady(csb.Status.Conditions, v1beta1.ConditionTrue)
	})
	eventually(t, "the controller to hold its lease", func() bool {
		var l coordinationv1.Lease
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: doctor.DefaultLeaseName}, &l)
		return err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != ""
	})

	r, err := doctorJSON(t, env.Kubeconfig, nsFlag...)
	if err != nil || !r.Summary.Healthy || r.Summary.Warnings != 0 {
		t.Errorf("doctor on a healthy catalog: %v, %+v", err, r)
	}
	for _, f := range r.Findings {
		if f.Severity != doctor.OK {
			t.Errorf("finding on a healthy catalog: %+v", f)
		}
	}
	if f := findFinding(r, doctor.CheckBrokers, ""); f == nil || f.Summary != "1 broker, Ready" {
		t.Errorf("brokers: %+v", f)
	}
	text, err := runDoctor(t, env.Kubeconfig, nsFlag...)
	if err != nil || !strings.HasSuffix(text, "\n6 ok, 0 warnings, 0 errors: healthy\n") {
		t.Errorf("text report on a healthy catalog (%v):\n%s", err, text)
	}

	// Break it: a namespaced broker at a port nobody listens on, then
	// stop the controller, which releases its lease.
	sb := &v1beta1.ServiceBroker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unreachable"}}
	sb.Spec.URL = "http://127.0.0.1:1"
	if err := env.Client.Create(ctx, sb); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, env, sb)
	eventually(t, "the unreachable broker to be not Ready", func() bool {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(sb), sb)
		return err == nil && brokerReady(sb.Status.Conditions, v1beta1.ConditionFalse)
	})
	stop()

	r, err = doctorJSON(t, env.Kubeconfig, nsFlag...)
	var ef *ErrorsFound
	if !errors.As(err, &ef) || ef.N != 2 || r.Summary.Errors != 2 {
		t.Errorf("doctor on a broken catalog: error %v, summary %+v", err, r.Summary)
	}
	if f := findFinding(r, doctor.CheckController, ""); f == nil || f.Cause != "ControllerNotRunning" {
		t.Errorf("controller: %+v", f)
	}
	if f := findFinding(r, doctor.CheckBrokers, "servicebroker/"+ns+"/unreachable"); f == nil || f.Severity != doctor.Error ||
		f.Cause != "ErrorFetchingCatalog" || !strings.Contains(f.Summary, "connection refused") {
		t.Errorf("unreachable broker: %+v", f)
	}

	// Only the aggregation layer: envtest's kube-apiserver has no
	// aggregated APIs, so the broken catalog does not matter.
	if r, err := doctorJSON(t, env.Kubeconfig, "aggregation"); err != nil || len(r.Findings) != 2 || !r.Summary.Healthy {
		t.Errorf("doctor aggregation: %v, %+v", err, r)
	}
}

// TestGatherWithoutPermissions reads the cluster as a user RBAC allows
// nothing: the CRDs are found through discovery, everything else is a
// warning that doctor could not look, and nothing is an error.
func TestGatherWithoutPermissions(t *testing.T) {
	env := localcluster.Get(t)
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "svcat-doctor-nobody", Groups: []string{"system:authenticated"}}
	g, err := doctor.NewGatherer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := g.Gather(context.Background(), doctor.GatherOptions{ControllerNamespace: "svcat-system",
		LeaseName: doctor.DefaultLeaseName, DeploymentName: doctor.DefaultDeploymentName})
	if err != nil {
		t.Fatal(err)
	}
	if !ev.CRDs.ViaDiscovery || len(ev.CRDs.Found) != len(doctor.ExpectedCRDs) {
		t.Errorf("CRDs: %+v", ev.CRDs)
	}
	r := doctor.Diagnose(ev, doctor.DefaultOptions())
	if !r.Summary.Healthy {
		t.Errorf("not healthy: %+v", r)
	}
	var cannot []string
	for _, f := range r.Findings {
		if f.Cause == "CannotRead" {
			cannot = append(cannot, f.Check)
		}
	}
	want := []string{doctor.CheckController, doctor.CheckBrokers, doctor.CheckOperations, doctor.CheckAggregation, doctor.CheckAggregation}
	if strings.Join(cannot, ",") != strings.Join(want, ",") {
		t.Errorf("CannotRead warnings for %v, want %v\n%+v", cannot, want, r.Findings)
	}
}
