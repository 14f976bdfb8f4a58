package tenancy

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
)

// svcatAs runs the svcat command tree in-process as user, as a person with
// only that user's rights would run the binary.
func svcatAs(t *testing.T, c *cluster, user string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append([]string{"--kubeconfig", c.env.Kubeconfig, "--as", user}, args...)
	code = svcatcmd.Run(ctx, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, "svcat", full)
	return out.String(), errOut.String(), code
}

// readMarkers lets tn read ConfigMaps in its namespace, as a namespace's
// edit role does: svcat reads the share markers with it.
func readMarkers(t *testing.T, c *cluster, tn *tenant) {
	t.Helper()
	ctx := context.Background()
	must(t, c.env.Client.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "configmaps"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}}}}))
	must(t, c.env.Client.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "configmaps"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "configmaps"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: tn.name}}}))
}

// describeShared checks svcat describe instance from consuming namespaces
// once owner's kafka is shared with shared and its marker written there,
// and not with other: shared's user, with no right in owner's namespace,
// sees the marker's class and plan and their binding reader; other's user
// gets the same error for the instance as for one that does not exist.
func describeShared(t *testing.T, c *cluster, owner, shared, other *tenant) {
	t.Helper()
	readMarkers(t, c, shared)
	readMarkers(t, c, other)
	out, errOut, code := svcatAs(t, c, shared.name, "-n", shared.ns, "describe", "instance", owner.ns+"/kafka")
	t.Logf("svcat describe instance %s/kafka -n %s:\n%s", owner.ns, shared.ns, out)
	if code != 0 || errOut != "" {
		t.Fatalf("describe of the shared instance: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"Shared with this namespace (" + shared.ns + ")", "Namespace:   " + owner.ns, "reader", "Ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe of the shared instance does not show %q", want)
		}
	}
	if strings.Contains(out, "topics") || strings.Contains(out, "writer") {
		t.Errorf("describe of the shared instance shows the owner's parameters or bindings")
	}
	_, probe, probeCode := svcatAs(t, c, other.name, "-n", other.ns, "describe", "instance", owner.ns+"/kafka")
	_, ghost, ghostCode := svcatAs(t, c, other.name, "-n", other.ns, "describe", "instance", owner.ns+"/no-such")
	t.Logf("not shared: %s", probe)
	if probeCode == 0 || probeCode != ghostCode || strings.ReplaceAll(ghost, "no-such", "kafka") != probe {
		t.Errorf("describe of an unshared instance and a missing one read differently:\n  %s\n  %s", probe, ghost)
	}
}
