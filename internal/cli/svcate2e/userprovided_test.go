package svcate2e_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// svcat create user-provided, both ways, then get, describe, bind and
// unbind as for any instance, through the real controller and no broker.
func TestUserProvidedWithController(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	startController(t, env)
	ns := "e2e-user-provided"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	wait := []string{"--wait", "--interval", "200ms", "--timeout", "1m"}

	// Literal values: the Secret is made for them, owned by the instance.
	out, _ := svcat(t, env, append([]string{"-n", ns, "create", "user-provided", "smtp", "-p", "host=smtp.example.com", "-p", "password=s3cret=x"}, wait...)...)
	if !hasField(out, "Status:", "Ready") || !hasField(out, "Class:", "(user-provided)") || !hasField(out, "Credentials:", "Secret smtp-credentials") || strings.Contains(out, "s3cret") {
		t.Errorf("create user-provided --param --wait:\n%s", out)
	}
	sec := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "smtp-credentials"}, sec); err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["password"]) != "s3cret=x" || len(sec.OwnerReferences) != 1 || sec.OwnerReferences[0].Kind != "ServiceInstance" || sec.OwnerReferences[0].Name != "smtp" {
		t.Errorf("the Secret made from --param: data keys %d, owners %+v; want the values and the instance as owner", len(sec.Data), sec.OwnerReferences)
	}

	// A Secret the user keeps.
	if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db-creds"},
		StringData: map[string]string{"uri": "postgres://db.example/orders"}}); err != nil {
		t.Fatal(err)
	}
	svcat(t, env, append([]string{"-n", ns, "create", "user-provided", "orders-db", "--from-secret", "db-creds"}, wait...)...)

	out, _ = svcat(t, env, "-n", ns, "get", "instances")
	for _, name := range []string{"orders-db", "smtp"} {
		if !strings.Contains(out, name) {
			t.Errorf("get instances has no %s:\n%s", name, out)
		}
	}
	if strings.Count(out, "(user-provided)") != 2 || strings.Count(out, "Ready") != 2 {
		t.Errorf("get instances: want both instances shown as (user-provided) and Ready:\n%s", out)
	}
	if out, _ = svcat(t, env, "-n", ns, "get", "instances", "-c", "(user-provided)"); strings.Count(out, "(user-provided)") != 2 {
		t.Errorf("get instances -c (user-provided):\n%s", out)
	}
	out, _ = svcat(t, env, "-n", ns, "describe", "instance", "orders-db")
	if !hasField(out, "Class:", "(user-provided)") || !hasField(out, "Credentials:", "Secret db-creds") {
		t.Errorf("describe instance:\n%s", out)
	}

	svcat(t, env, append([]string{"-n", ns, "bind", "orders-db"}, wait...)...)
	out, _ = svcat(t, env, "-n", ns, "describe", "binding", "orders-db", "--show-secrets")
	if !hasField(out, "uri", "postgres://db.example/orders") || !hasField(out, "type", "user-provided") {
		t.Errorf("describe binding --show-secrets:\n%s", out)
	}
	// A Secret the controller refuses: --wait ends with its reason, not at
	// its timeout (ten minutes, beyond the three svcatExit gives the command).
	if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "big-creds"},
		Data: map[string][]byte{"blob": make([]byte, 600000)}}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := svcatExit(env, "-n", ns, "create", "user-provided", "big", "--from-secret", "big-creds", "--wait", "--interval", "200ms", "--timeout", "10m")
	if code == 0 || !strings.Contains(errOut, `instance e2e-user-provided/big is not Ready: UserProvidedSecretTooLarge: The Secret "big-creds" holds 600004 bytes`) {
		t.Errorf("create user-provided --wait from a Secret too large: exit %d\n%s", code, errOut)
	}
	svcat(t, env, append([]string{"-n", ns, "deprovision", "big"}, wait...)...)

	svcat(t, env, append([]string{"-n", ns, "unbind", "orders-db"}, wait...)...)
	svcat(t, env, append([]string{"-n", ns, "deprovision", "orders-db"}, wait...)...)
	svcat(t, env, append([]string{"-n", ns, "deprovision", "smtp"}, wait...)...)
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db-creds"}, &corev1.Secret{}); err != nil {
		t.Errorf("the user's own Secret after deprovision: %v, want it kept", err)
	}
}

// Refusals come before anything is created, and name what to do.
func TestCreateUserProvidedRefusals(t *testing.T) {
	env := localcluster.Get(t)
	ctx := context.Background()
	ns := "e2e-user-provided-refusals"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken-credentials"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "user-provided", "x"}, "give the credentials: --from-secret SECRET, or --param KEY=VALUE"},
		{[]string{"create", "user-provided", "x", "--from-secret", "s", "-p", "a=b"}, "cannot be combined"},
		{[]string{"create", "user-provided", "x", "-p", "novalue"}, `--param number 1 has no "=": want KEY=VALUE`},
		{[]string{"create", "user-provided", "x", "-p", "bad key=v"}, `--param "bad key": not valid as a Secret key`},
		{[]string{"create", "user-provided", "x", "-p", "a=1", "-p", "a=2"}, `--param "a" is given twice`},
		{[]string{"create", "user-provided", "x", "--from-secret", "missing"}, `no Secret "missing" in namespace "` + ns + `": create it first`},
		{[]string{"create", "user-provided", "taken", "-p", "a=b"}, `a Secret "taken-credentials" already exists`},
	} {
		code, _, errOut := svcatExit(env, append([]string{"-n", ns}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("svcat %s: exit %d\n%s\nwant an error containing %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	var l corev1.SecretList
	if err := env.Client.List(ctx, &l, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if out, _ := svcat(t, env, "-n", ns, "get", "instances"); strings.Contains(out, "(user-provided)") || len(l.Items) != 1 {
		t.Errorf("refused commands left objects: %d Secrets, instances:\n%s", len(l.Items), out)
	}
}
