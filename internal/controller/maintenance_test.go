package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// maintenanceFixture is a fixture whose plan "small" carries
// maintenance_info version v.
func maintenanceFixture(t *testing.T, prefix, v string) *fixture {
	f := startFixture(t, prefix)
	f.setMaintenance(v, "")
	f.register(f.proxy.URL)
	return f
}

// setMaintenance changes the broker's catalog: plan small gets version v.
func (f *fixture) setMaintenance(v, desc string) {
	f.t.Helper()
	cat := fixtureCatalog(f.prefix)
	cat[0].Plans[0].MaintenanceInfo = &osb.MaintenanceInfo{Version: v, Description: desc}
	if err := f.broker.SetCatalog(cat); err != nil {
		f.t.Fatal(err)
	}
}

// relistTo relists the broker and waits for plan small to show version v.
func (f *fixture) relistTo(v string) {
	f.t.Helper()
	patchBroker(f.t, f.c, f.prefix, func(b *scv1beta1.ClusterServiceBroker) { b.Spec.RelistRequests++ })
	eventually(f.t, 30*time.Second, "plan small at "+v, func() error {
		p := &scv1beta1.ClusterServicePlan{}
		if err := f.c.Get(context.Background(), client.ObjectKey{Name: f.prefix + "-small"}, p); err != nil {
			return err
		}
		if mi := p.Spec.MaintenanceInfo; mi == nil || mi.Version != v {
			return fmt.Errorf("plan maintenanceInfo %+v", mi)
		}
		return nil
	})
}

// sentMaintenance is the maintenance_info.version of each update the
// broker received for id ("-" for none).
func (f *fixture) sentMaintenance(id string) []string {
	var out []string
	for _, r := range f.requestsFor(osb.OpUpdate, id) {
		mi, _ := body(f.t, r)["maintenance_info"].(map[string]any)
		v, _ := mi["version"].(string)
		if v == "" {
			v = "-"
		}
		out = append(out, v)
	}
	return out
}

func recordedVersion(i *scv1beta1.ServiceInstance) string {
	if i.Status.ExternalProperties == nil {
		return ""
	}
	return i.Status.ExternalProperties.MaintenanceInfoVersion
}

func noUpgradeCondition(i *scv1beta1.ServiceInstance) error {
	if c := i.Status.GetCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable); c != nil {
		return fmt.Errorf("UpgradeAvailable %s %s: %s", c.Status, c.Reason, c.Message)
	}
	return nil
}

// A provision records the plan's version; a new version in the catalog is
// reported with the broker's description and sent only when asked for, in
// exactly one update; afterwards the instance has the new version.
// An instance without a recorded version (as v0.3 left it) is left alone.
func TestMaintenanceUpgradeOnRequest(t *testing.T) {
	f := maintenanceFixture(t, "maint-up", "1.0.0")
	f.instance("app", "kafka", "small", nil)
	inst := f.ready("app")
	if got := recordedVersion(inst); got != "1.0.0" {
		t.Fatalf("recorded maintenance version %q, want 1.0.0", got)
	}
	prov := f.requestsFor(osb.OpProvision, f.id("app"))
	if mi, _ := body(t, prov[0])["maintenance_info"].(map[string]any); mi["version"] != "1.0.0" {
		t.Errorf("provision sent maintenance_info %v, want version 1.0.0", mi)
	}
	if err := noUpgradeCondition(inst); err != nil {
		t.Error(err)
	}

	// As v0.3 left an instance: no recorded version.
	f.instance("legacy", "kafka", "small", nil)
	f.ready("legacy")
	legacy := &scv1beta1.ServiceInstance{}
	legacy.Namespace, legacy.Name = f.ns, "legacy"
	setStatus(t, f.c, legacy, func(i *scv1beta1.ServiceInstance) { i.Status.ExternalProperties.MaintenanceInfoVersion = "" })

	f.setMaintenance("1.1.0", "Kafka 3.9 with new topic defaults")
	f.relistTo("1.1.0")
	inst = waitInstance(t, f.c, f.ns, "app", instanceCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable, scv1beta1.ConditionTrue, scv1beta1.ReasonMaintenanceUpgradeAvailable))
	msg := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable).Message
	for _, want := range []string{"1.1.0", "1.0.0", "Kafka 3.9 with new topic defaults", "svcat upgrade instance app"} {
		if !strings.Contains(msg, want) {
			t.Errorf("UpgradeAvailable message %q does not say %q", msg, want)
		}
	}
	if inst.Status.LastConditionState != "Ready" {
		t.Errorf("lastConditionState %q with an upgrade available, want Ready (the STATUS v0.3 clients show)", inst.Status.LastConditionState)
	}
	if got := f.opsFor(f.id("app")); got != "provision" {
		t.Errorf("broker saw %s before the upgrade was asked for, want provision only", got)
	}

	update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.MaintenanceInfoVersion = "1.1.0" })
	inst = waitInstance(t, f.c, f.ns, "app", func(i *scv1beta1.ServiceInstance) error {
		if v := recordedVersion(i); v != "1.1.0" {
			return fmt.Errorf("recorded version %q", v)
		}
		return noUpgradeCondition(i)
	})
	if got := f.sentMaintenance(f.id("app")); len(got) != 1 || got[0] != "1.1.0" {
		t.Errorf("updates sent with maintenance versions %v, want exactly [1.1.0]", got)
	}
	if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
		t.Errorf("Ready after the upgrade: %+v", c)
	}

	// The legacy instance saw the same plan change: nothing said, nothing sent.
	legacy = waitInstance(t, f.c, f.ns, "legacy", noUpgradeCondition)
	if got := f.opsFor(f.id("legacy")); got != "provision" {
		t.Errorf("the legacy instance's broker requests %s, want provision only", got)
	}
}

// A 422 MaintenanceInfoConflict leaves the instance Ready with its version,
// says so in the UpgradeAvailable condition and an event, and the version
// is not sent again (not even with a later parameter change) until the
// catalog changes; then the Automatic policy sends the new one.
func TestMaintenanceConflictWaitsForCatalog(t *testing.T) {
	f := maintenanceFixture(t, "maint-cf", "1.0.0")
	f.instance("app", "kafka", "small", func(i *scv1beta1.ServiceInstance) {
		i.Spec.MaintenanceUpgradePolicy = scv1beta1.MaintenanceUpgradeAutomatic
	})
	inst := f.ready("app")

	// The broker refuses the first upgrade, as one whose catalog moved on
	// since the last relist would.
	f.broker.On(testbroker.Rule{Operation: osb.OpUpdate, InstanceID: f.id("app"), Times: 1,
		Status: 422, ErrorCode: osb.ErrorCodeMaintenanceInfoConflict, Description: "catalog has moved on"})
	f.setMaintenance("1.1.0", "")
	f.relistTo("1.1.0")
	inst = waitInstance(t, f.c, f.ns, "app", instanceCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable, scv1beta1.ConditionTrue, scv1beta1.ReasonMaintenanceInfoConflict))
	msg := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionUpgradeAvailable).Message
	if !strings.Contains(msg, "1.1.0") || !strings.Contains(msg, "MaintenanceInfoConflict") || !strings.Contains(msg, "catalog has moved on") {
		t.Errorf("conflict message %q does not name the version and the broker's refusal", msg)
	}
	if v := recordedVersion(inst); v != "1.0.0" {
		t.Errorf("recorded version %q after the refusal, want 1.0.0", v)
	}
	if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionReady); c == nil || c.Status != scv1beta1.ConditionTrue {
		t.Errorf("Ready after the refusal: %+v", c)
	}
	if c := inst.Status.GetCondition(scv1beta1.ServiceInstanceConditionFailed); c != nil {
		t.Errorf("Failed after a refused upgrade: %+v", c)
	}
	f.waitEvent(scv1beta1.ReasonMaintenanceInfoConflict)

	// A parameter change goes out alone: the refused version is not retried.
	update(t, f.c, inst, func(i *scv1beta1.ServiceInstance) { i.Spec.Parameters = raw(t, map[string]any{"size": 2}) })
	waitInstance(t, f.c, f.ns, "app", func(i *scv1beta1.ServiceInstance) error {
		if i.Status.ObservedGeneration != i.Generation || i.Status.ExternalProperties == nil || i.Status.ExternalProperties.Parameters == nil {
			return fmt.Errorf("parameters not yet accepted")
		}
		return nil
	})
	if got := f.sentMaintenance(f.id("app")); strings.Join(got, ",") != "1.1.0,-" {
		t.Fatalf("updates sent with maintenance versions %v, want [1.1.0 -]: one refused upgrade, then parameters alone", got)
	}

	// The catalog changes: the Automatic policy sends 1.2.0, once.
	f.setMaintenance("1.2.0", "")
	f.relistTo("1.2.0")
	waitInstance(t, f.c, f.ns, "app", func(i *scv1beta1.ServiceInstance) error {
		if v := recordedVersion(i); v != "1.2.0" {
			return fmt.Errorf("recorded version %q", v)
		}
		return noUpgradeCondition(i)
	})
	if got := f.sentMaintenance(f.id("app")); strings.Join(got, ",") != "1.1.0,-,1.2.0" {
		t.Errorf("updates sent with maintenance versions %v, want [1.1.0 - 1.2.0]", got)
	}
}
