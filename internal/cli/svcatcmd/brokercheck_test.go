package svcatcmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/svcat-io/svcat/internal/cli/svcatcmd"
	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/osb"
	"github.com/svcat-io/svcat/internal/testbroker"
)

// brokerCheck runs `svcat broker check` without a cluster: the command
// talks only to the broker.
func brokerCheck(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := svcatcmd.Run(ctx, streams, "svcat", append([]string{"broker", "check"}, args...))
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

func TestBrokerCheck(t *testing.T) {
	good := testbroker.Start(t, testbroker.Options{})
	bad := testbroker.Start(t, testbroker.Options{Faults: []testbroker.Fault{testbroker.FaultNoWWWAuthenticate}})
	creds := []string{"--username", testbroker.DefaultUsername, "--password", testbroker.DefaultPassword}

	r := brokerCheck(t, append([]string{good.URL()}, creds...)...)
	if r.code != svcatcmd.ExitOK || !strings.Contains(r.stdout, "0 MUST failures, 0 SHOULD warnings") {
		t.Errorf("clean broker: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden(t, "broker-check", strings.ReplaceAll(r.stdout, good.URL(), "http://127.0.0.1:PORT"))

	r = brokerCheck(t, append([]string{bad.URL()}, creds...)...)
	if r.code != svcatcmd.ExitError || !strings.Contains(r.stdout, "FAIL MUST   auth.www-authenticate") ||
		!strings.Contains(r.stderr, "auth.www-authenticate") {
		t.Errorf("faulty broker: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = brokerCheck(t, append([]string{bad.URL(), "-o", "json"}, creds...)...)
	var rep struct {
		Results []struct{ ID, Status string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Results) == 0 {
		t.Errorf("-o json is not a report (%v):\n%s", err, r.stdout)
	}

	r = brokerCheck(t, append([]string{bad.URL(), "-o", "junit"}, creds...)...)
	var suite struct {
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &suite); err != nil || suite.Failures != 1 {
		t.Errorf("-o junit: %v, %d failures:\n%s", err, suite.Failures, r.stdout)
	}
	for _, c := range suite.Cases {
		if c.Failure != nil && c.Name != "auth.www-authenticate" {
			t.Errorf("junit failure %s, want only auth.www-authenticate", c.Name)
		}
	}
}

func TestBrokerCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		{"ftp://x"},
		{"http://x", "--token", "t", "--username", "u"},
		{"http://x", "--secret", "only-name"},
		{"http://x", "-o", "yaml"},
		{"http://x", "--parameters", "[1]"},
		{"http://x", "--insecure", "--ca-file", "ca.pem"},
	} {
		if r := brokerCheck(t, args...); r.code != svcatcmd.ExitUsage {
			t.Errorf("%v: exit %d, want %d; %s", args, r.code, svcatcmd.ExitUsage, r.stderr)
		}
	}
}

// TestBrokerCheckSecret takes the broker's credentials from a Secret, as
// `svcat register --basic-secret` would.
func TestBrokerCheckSecret(t *testing.T) {
	env := localcluster.Get(t)
	b := testbroker.Start(t, testbroker.Options{})
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "broker-check-"}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "auth"}, Data: map[string][]byte{
		"username": []byte(testbroker.DefaultUsername), "password": []byte(testbroker.DefaultPassword)}}
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	r := svcat(t, env, "", "broker", "check", b.URL(), "--secret", ns.Name+"/auth")
	if r.code != svcatcmd.ExitOK || !strings.Contains(r.stdout, "PASS MUST   auth.wrong") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = svcat(t, env, "", "broker", "check", b.URL(), "--secret", ns.Name+"/missing")
	if r.code != svcatcmd.ExitError || !strings.Contains(r.stderr, "--secret "+ns.Name+"/missing") {
		t.Errorf("missing secret: exit %d\n%s", r.code, r.stderr)
	}
}

// TestBrokerCheckInterrupted: Ctrl-C (a cancelled context) still removes
// what the check created, says so, and fails.
func TestBrokerCheckInterrupted(t *testing.T) {
	b := testbroker.Start(t, testbroker.Options{})
	b.On(testbroker.Rule{Operation: osb.OpProvision, Async: true, AsyncDelay: time.Minute})
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	code := svcatcmd.Run(ctx, streams, "svcat", []string{"broker", "check", b.URL(),
		"--username", testbroker.DefaultUsername, "--password", testbroker.DefaultPassword})
	if code != svcatcmd.ExitError || !strings.Contains(errOut.String(), "Interrupted: removing") || !strings.Contains(out.String(), "ABORTED") {
		t.Errorf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if left := b.Instances(); len(left) != 0 {
		t.Errorf("instances left on the broker: %v", left)
	}
}
