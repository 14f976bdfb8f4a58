package svcate2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// svcatExit runs svcat and returns its exit status with its output.
func svcatExit(env *localcluster.Env, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := svcatcmd.Run(ctx, streams, "svcat", append([]string{"--kubeconfig", env.Kubeconfig}, args...))
	return code, out.String(), errOut.String()
}

// updateVersions is the maintenance_info.version of each update the broker
// received ("-" for none).
func updateVersions(t *testing.T, b *testbroker.Broker) []string {
	var out []string
	for _, r := range b.RequestsFor(osb.OpUpdate) {
		var body struct {
			MaintenanceInfo *osb.MaintenanceInfo `json:"maintenance_info"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		v := "-"
		if body.MaintenanceInfo != nil {
			v = body.MaintenanceInfo.Version
		}
		out = append(out, v)
	}
	return out
}

// A person sees an upgrade offered after the broker's catalog moves on,
// upgrades with svcat, and is told clearly when the broker refuses.
func TestUpgradeWithController(t *testing.T) {
	env := localcluster.Get(t)
	broker := testbroker.Start(t, testbroker.Options{Catalog: testbroker.MaintenanceCatalog("upgkafka", "1.0.0", "")})
	startController(t, env)
	ns := "e2e-upgrade"
	namespaceWithBrokerAuth(t, env, ns)
	wait := []string{"--wait", "--interval", "200ms", "--timeout", "1m"}
	svcat(t, env, append([]string{"-n", ns, "register", "upgkafka", "--url", broker.URL(), "--scope", "cluster", "--basic-secret", "broker-auth"}, wait...)...)
	defer svcat(t, env, append([]string{"-n", ns, "deregister", "upgkafka", "--scope", "cluster"}, wait...)...)
	svcat(t, env, append([]string{"-n", ns, "provision", "app", "--class", "upgkafka", "--plan", "duck"}, wait...)...)
	defer svcat(t, env, append([]string{"-n", ns, "deprovision", "app"}, wait...)...)
	if out, _ := svcat(t, env, "-n", ns, "describe", "instance", "app"); !hasField(out, "Maintenance:", "1.0.0") || strings.Contains(out, "Upgrade:") {
		t.Errorf("describe instance after provisioning:\n%s", out)
	}

	if err := broker.SetCatalog(testbroker.MaintenanceCatalog("upgkafka", "1.1.0", "Kafka 3.9 with new topic defaults")); err != nil {
		t.Fatal(err)
	}
	svcat(t, env, "sync", "broker", "upgkafka", "--scope", "cluster")
	var out string
	if !eventually(30*time.Second, func() bool {
		out, _ = svcat(t, env, "-n", ns, "get", "instances")
		return strings.Contains(out, "Ready, upgrade available")
	}) {
		t.Fatalf("get instances never offered the upgrade:\n%s", out)
	}
	out, _ = svcat(t, env, "-n", ns, "describe", "instance", "app")
	if !hasField(out, "Upgrade:", "MaintenanceUpgradeAvailable - Maintenance version 1.1.0 is available (the instance has 1.0.0): Kafka 3.9 with new topic defaults") {
		t.Errorf("describe instance with an upgrade available:\n%s", out)
	}
	if got := updateVersions(t, broker); len(got) != 0 {
		t.Errorf("updates %v sent before the upgrade was asked for", got)
	}

	out, _ = svcat(t, env, append([]string{"-n", ns, "upgrade", "instance", "app"}, wait...)...)
	if out != "Upgrade to maintenance version 1.1.0 requested for instance: app\n" {
		t.Errorf("upgrade instance: %q", out)
	}
	if got := updateVersions(t, broker); strings.Join(got, ",") != "1.1.0" {
		t.Errorf("updates sent with maintenance versions %v, want exactly [1.1.0]", got)
	}
	out, _ = svcat(t, env, "-n", ns, "describe", "instance", "app")
	if !hasField(out, "Maintenance:", "1.1.0") || strings.Contains(out, "Upgrade:") || !hasField(out, "Status:", "Ready") {
		t.Errorf("describe instance after the upgrade:\n%s", out)
	}
	if out, _ = svcat(t, env, "-n", ns, "upgrade", "instance", "app"); out != "Instance app already has maintenance version 1.1.0\n" {
		t.Errorf("upgrade instance again: %q", out)
	}

	// The broker refuses the next version once.
	broker.On(testbroker.Rule{Operation: osb.OpUpdate, Times: 1, Status: 422,
		ErrorCode: osb.ErrorCodeMaintenanceInfoConflict, Description: "maintenance_info.version does not match the catalog"})
	if err := broker.SetCatalog(testbroker.MaintenanceCatalog("upgkafka", "1.2.0", "Kafka 4.0")); err != nil {
		t.Fatal(err)
	}
	svcat(t, env, "sync", "broker", "upgkafka", "--scope", "cluster")
	if !eventually(30*time.Second, func() bool {
		out, _ = svcat(t, env, "-n", ns, "get", "instances")
		return strings.Contains(out, "Ready, upgrade available")
	}) {
		t.Fatalf("get instances never offered 1.2.0:\n%s", out)
	}
	code, out, errOut := svcatExit(env, append([]string{"-n", ns, "upgrade", "instance", "app"}, wait...)...)
	if code != svcatcmd.ExitError || !strings.Contains(errOut, "The broker refused maintenance version 1.2.0 (422 MaintenanceInfoConflict: maintenance_info.version does not match the catalog)") {
		t.Errorf("upgrade instance refused: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if out, _ = svcat(t, env, "-n", ns, "get", "instances"); !strings.Contains(out, "Ready, upgrade refused") {
		t.Errorf("get instances after the refusal:\n%s", out)
	}
	if got := updateVersions(t, broker); strings.Join(got, ",") != "1.1.0,1.2.0" {
		t.Errorf("updates sent with maintenance versions %v, want [1.1.0 1.2.0]: the refused one is not retried", got)
	}
}
