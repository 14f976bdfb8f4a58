package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/svcat-io/svcat/internal/kafkabroker/kafkatest"
)

// tenantBody is a provision or bind from a namespace, as svcat sends it.
func tenantBody(plan, namespace string, params any) map[string]any {
	d := kafkatest.Details(svc, plan, params)
	d["space_guid"] = "uid-" + namespace
	d["context"] = map[string]any{"platform": "kubernetes", "clusterid": "c1", "namespace": namespace}
	d["bind_resource"] = map[string]any{"app_guid": "uid-" + namespace}
	return d
}

func rotation(plan, namespace, predecessor string) map[string]any {
	d := tenantBody(plan, namespace, nil)
	d["predecessor_binding_id"] = predecessor
	return d
}

// aclsOf lists a user's ACLs without the principal, so that two users'
// rights can be compared.
func aclsOf(t *testing.T, adm *kadm.Client, user string) []string {
	t.Helper()
	res, err := adm.DescribeACLs(shortCtx(t), kadm.NewACLs().Allow("User:"+user).AllowHosts().AnyResource().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		for _, d := range r.Described {
			out = append(out, d.Type.String()+" "+d.Name+" "+d.Pattern.String()+" "+d.Operation.String()+" "+d.Permission.String()+" "+d.Host)
		}
	}
	slices.Sort(out)
	return out
}

// A rotation is a bind that names the binding it replaces: a new SCRAM
// user with the same rights, while the old one keeps working until the
// platform unbinds it.
func TestRotateBinding(t *testing.T) {
	c := kafkatest.Cluster(t, "")
	osb, _ := startBroker(t, c)
	adm := adminClient(t, c)
	params := map[string]any{"topics": []any{map[string]any{"name": "events"}}}
	expect(t, "provision", osb.Do(t, "PUT", instPath("r"), tenantBody(duck, "team-a", params)), 201)
	old := osb.Do(t, "PUT", bindPath("r", "old"), tenantBody(duck, "team-a", nil))
	expect(t, "bind", old, 201)
	oldCreds := old.Credentials()
	topic := oldCreds["topicPrefix"] + "events"

	rotated := osb.Do(t, "PUT", bindPath("r", "new"), rotation(duck, "team-a", "old"))
	expect(t, "rotate", rotated, 201)
	newCreds := rotated.Credentials()
	if newCreds["username"] == oldCreds["username"] || newCreds["password"] == oldCreds["password"] {
		t.Fatal("the rotation handed out the predecessor's user or password")
	}
	if newCreds["topicPrefix"] != oldCreds["topicPrefix"] || newCreds["brokers"] != oldCreds["brokers"] {
		t.Fatalf("the rotation changed where the application connects: %v", newCreds)
	}
	if o, n := aclsOf(t, adm, oldCreds["username"]), aclsOf(t, adm, newCreds["username"]); len(o) == 0 || !slices.Equal(o, n) {
		t.Fatalf("ACLs differ:\nold %v\nnew %v", o, n)
	}
	for name, creds := range map[string]map[string]string{"old": oldCreds, "new": newCreds} {
		if err := produce(t, clientFor(t, creds), topic, "from "+name); err != nil {
			t.Fatalf("the %s credentials do not work during the rotation: %v", name, err)
		}
	}

	again := osb.Do(t, "PUT", bindPath("r", "new"), rotation(duck, "team-a", "old"))
	expect(t, "repeated rotation", again, 200)
	if again.Credentials()["password"] != newCreds["password"] {
		t.Fatal("a repeated rotation changed the password")
	}
	expect(t, "bind other", osb.Do(t, "PUT", bindPath("r", "other"), tenantBody(duck, "team-a", nil)), 201)
	expect(t, "same binding, another predecessor", osb.Do(t, "PUT", bindPath("r", "new"), rotation(duck, "team-a", "other")), 409)
	expect(t, "same binding, no predecessor", osb.Do(t, "PUT", bindPath("r", "new"), tenantBody(duck, "team-a", nil)), 409)

	// Another tenant's binding cannot be named, and the answer is the
	// same as for one that never existed.
	expect(t, "provision victim", osb.Do(t, "PUT", instPath("v"), tenantBody(duck, "team-b", params)), 201)
	victim := osb.Do(t, "PUT", bindPath("v", "vb"), tenantBody(duck, "team-b", nil))
	expect(t, "bind victim", victim, 201)
	missing := osb.Do(t, "PUT", bindPath("r", "x"), rotation(duck, "team-a", "nope"))
	expect(t, "unknown predecessor", missing, 400, "predecessor_binding_id", "names no binding of instance r")
	foreign := osb.Do(t, "PUT", bindPath("r", "x"), rotation(duck, "team-a", "vb"))
	expect(t, "another instance's binding as predecessor", foreign, 400)
	if strings.ReplaceAll(foreign.Str("description"), "vb", "nope") != missing.Str("description") {
		t.Fatalf("answers differ for a foreign and a missing predecessor:\n%s\n%s", foreign.Raw, missing.Raw)
	}
	for _, secret := range []string{victim.Credentials()["username"], victim.Credentials()["password"], "team-b", "svcat-v."} {
		if strings.Contains(string(foreign.Raw), secret) {
			t.Fatalf("the refusal reveals %q: %s", secret, foreign.Raw)
		}
	}
	expect(t, "rotation from another namespace", osb.Do(t, "PUT", bindPath("v", "steal"), rotation(duck, "team-a", "vb")), 409, "another platform context")
	expect(t, "predecessor is the binding itself", osb.Do(t, "PUT", bindPath("r", "self"), rotation(duck, "team-a", "self")), 400, "predecessor_binding_id")
	notString := tenantBody(duck, "team-a", nil)
	notString["predecessor_binding_id"] = 42
	expect(t, "predecessor not a string", osb.Do(t, "PUT", bindPath("r", "y"), notString), 400, "predecessor_binding_id must be a non-empty string")
	users, err := adm.DescribeUserSCRAMs(shortCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"svcat-r.x", "svcat-r.self", "svcat-r.y", "svcat-v.steal"} {
		if _, ok := users[u]; ok {
			t.Fatalf("a refused rotation left user %s", u)
		}
	}

	// The platform ends the rotation by unbinding the predecessor.
	expect(t, "unbind old", osb.Do(t, "DELETE", bindPath("r", "old")+query(duck), nil), 200)
	if err := clientFor(t, oldCreds).Ping(shortCtx(t)); err == nil {
		t.Fatal("the old credentials still log in after the old binding was unbound")
	}
	if err := produce(t, clientFor(t, newCreds), topic, "after"); err != nil {
		t.Fatalf("the new credentials stopped working when the old binding went: %v", err)
	}
	if got := consumeAll(t, newCreds, topic, newCreds["groupPrefix"]+"g", 3, 20*time.Second); len(got) != 3 {
		t.Fatalf("the new user reads %v, want the 3 records written during and after the rotation", got)
	}
	// A retry of the rotation's bind after the rotation ended (its answer
	// was lost) still gets the binding, and a crash that lost the user is
	// healed by it.
	if _, err := adm.AlterUserSCRAMs(shortCtx(t), []kadm.DeleteSCRAM{{User: newCreds["username"], Mechanism: kadm.ScramSha512}}, nil); err != nil {
		t.Fatal(err)
	}
	expect(t, "rotation retried after the predecessor went", osb.Do(t, "PUT", bindPath("r", "new"), rotation(duck, "team-a", "old")), 200)
	if err := produce(t, clientFor(t, newCreds), topic, "healed"); err != nil {
		t.Fatalf("the retried rotation did not make the lost user again: %v", err)
	}
	// Once the predecessor is gone, it cannot start a new rotation.
	expect(t, "rotate an unbound binding", osb.Do(t, "PUT", bindPath("r", "z"), rotation(duck, "team-a", "old")), 400)
}
