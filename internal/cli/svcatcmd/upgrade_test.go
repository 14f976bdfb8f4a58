package svcatcmd_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
)

// upgradeNS holds instances with maintenance upgrades, as the controller
// reports them.
const upgradeNS = "upgrades"

// upgradeFixtures makes, in upgradeNS, "offered" (an upgrade to 1.1.0 is
// available) and "refused" (the broker refused 1.1.0), both at 1.0.0.
func upgradeFixtures(t *testing.T, env *localcluster.Env) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: upgradeNS}}); err != nil {
		t.Fatal(err)
	}
	// A namespaced plan, so the cluster-wide listings of the other golden
	// files do not change.
	plan := &v1beta1.ServicePlan{ObjectMeta: metav1.ObjectMeta{Namespace: upgradeNS, Name: "upg-duck"}}
	plan.Spec.ExternalName, plan.Spec.ExternalID, plan.Spec.Description = "duck", "upg-duck", "Developer Duck"
	plan.Spec.ServiceBrokerName, plan.Spec.ServiceClassRef.Name = "upgrades", "upg-kafka"
	plan.Spec.MaintenanceInfo = &v1beta1.MaintenanceInfo{Version: "1.1.0", Description: "Kafka 3.9 with new topic defaults"}
	if err := env.Client.Create(ctx, plan); err != nil {
		t.Fatal(err)
	}
	// "plain" is on the seed plan, which has no maintenance_info.
	if _, err := createInstance(ctx, env.Client, upgradeNS, "plain", "7d0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f62", nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ name, id, reason, message string }{
		{"offered", "7d0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f60", v1beta1.ReasonMaintenanceUpgradeAvailable,
			fmt.Sprintf(v1beta1.MessageMaintenanceUpgradeAvailableFormat, "1.1.0", "1.0.0", "Kafka 3.9 with new topic defaults", "offered")},
		{"refused", "7d0e5b8a-42c1-4f0e-9a57-1b2c3d4e5f61", v1beta1.ReasonMaintenanceInfoConflict,
			fmt.Sprintf(v1beta1.MessageMaintenanceInfoConflictFormat, "1.1.0", "catalog moved on")},
	} {
		in, err := createInstance(ctx, env.Client, upgradeNS, f.name, f.id, nil)
		if err != nil {
			t.Fatal(err)
		}
		in.Spec.ClusterServicePlanRef, in.Spec.ServicePlanRef = nil, &v1beta1.LocalObjectReference{Name: plan.Name}
		if err := env.Client.Update(ctx, in); err != nil {
			t.Fatal(err)
		}
		in.Status.ExternalProperties.MaintenanceInfoVersion = "1.0.0"
		in.Status.SetAdvisoryCondition(v1beta1.ServiceInstanceConditionUpgradeAvailable, v1beta1.ConditionTrue, f.reason, f.message, provisionTime)
		if f.reason == v1beta1.ReasonMaintenanceInfoConflict {
			in.Status.MaintenanceInfoConflict = "1.1.0"
		}
		if err := env.Client.Status().Update(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUpgradeOutput: get and describe show an available or refused
// upgrade, upgrade instance asks for it in the spec, and refuses what it
// cannot send.
func TestUpgradeOutput(t *testing.T) {
	env := localcluster.Get(t)
	seedCatalog(t, env)
	upgradeFixtures(t, env)
	checkGoldens(t, env, []goldenCase{
		{"get-instances-upgrades", []string{"-n", upgradeNS, "get", "instances"}},
		{"describe-instance-upgrade-available", []string{"-n", upgradeNS, "describe", "instance", "offered"}},
		{"describe-instance-upgrade-refused", []string{"-n", upgradeNS, "describe", "instance", "refused"}},
		{"upgrade-instance", []string{"-n", upgradeNS, "upgrade", "instance", "offered"}},
	})
	in := &v1beta1.ServiceInstance{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: upgradeNS, Name: "offered"}, in); err != nil {
		t.Fatal(err)
	}
	if in.Spec.MaintenanceInfoVersion != "1.1.0" {
		t.Errorf("spec.maintenanceInfoVersion %q after upgrade instance, want 1.1.0", in.Spec.MaintenanceInfoVersion)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no maintenance_info in the plan", []string{"-n", upgradeNS, "upgrade", "instance", "plain"}, svcatcmd.ExitError,
			`the plan "duck" of instance "plain" has no maintenance_info in the broker's catalog`},
		{"not the plan's version", []string{"-n", upgradeNS, "upgrade", "instance", "refused", "--version", "1.2.0"}, svcatcmd.ExitError,
			`the plan of instance "refused" offers maintenance version 1.1.0, not 1.2.0`},
		{"not a version", []string{"-n", upgradeNS, "upgrade", "instance", "offered", "--version", "latest"}, svcatcmd.ExitUsage,
			`--version "latest" is not a Semantic Version (such as 1.2.0) of at most 256 bytes`},
		{"no such instance", []string{"-n", upgradeNS, "upgrade", "instance", "nope", "--version", "1.1.0"}, svcatcmd.ExitError,
			`instance "nope" not found in namespace "upgrades"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := svcat(t, env, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
}
