package controllermanager

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/localcluster"
	"github.com/svcat-io/svcat/internal/version"
)

// The leader publishes its version in the ConfigMap that `svcat version`
// reads, in the leader election namespace.
func TestLeaderPublishesVersion(t *testing.T) {
	env := localcluster.Get(t)
	ns := env.Namespace(t)
	o := DefaultOptions()
	o.MetricsAddr, o.ProbeAddr = "0", "0"
	o.LeaderElect, o.LeaderElectionNamespace = true, ns
	o.AllowSeveralInProcess = true
	before := time.Now().UTC().Truncate(time.Second)
	mgr, err := NewManager(env.Config, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	cm := &corev1.ConfigMap{}
	key := client.ObjectKey{Namespace: ns, Name: version.ControllerInfoName}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := env.Client.Get(context.Background(), key, cm)
		if err == nil {
			break
		}
		if !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			t.Fatalf("ConfigMap %s never appeared: %v", key, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := version.Get()
	for k, v := range map[string]string{
		version.LabelName:      version.ControllerName,
		version.LabelComponent: version.ControllerInfoComponent,
	} {
		if cm.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cm.Labels[k], v)
		}
	}
	for k, v := range map[string]string{
		version.KeyVersion:   want.Version,
		version.KeyGitCommit: want.GitCommit,
		version.KeyGoVersion: want.GoVersion,
	} {
		if got, ok := cm.Data[k]; !ok || got != v {
			t.Errorf("data %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	started, err := time.Parse(time.RFC3339, cm.Data[version.KeyStartedAt])
	if err != nil || started.Before(before) || started.After(time.Now()) {
		t.Errorf("data startedAt = %q (%v), want an RFC 3339 time since %s", cm.Data[version.KeyStartedAt], err, before)
	}
}

// Outside a pod and without a leader election namespace (the sandbox, a
// controller run from a laptop) the version is published in kube-system,
// where the claims are: svcat version used to say "unknown" there.
func TestControllerOutsideAPodPublishesVersion(t *testing.T) {
	env := localcluster.Get(t)
	old := inClusterNamespaceFile
	t.Cleanup(func() { inClusterNamespaceFile = old })
	inClusterNamespaceFile = filepath.Join(t.TempDir(), "no-namespace")
	o := DefaultOptions()
	o.MetricsAddr, o.ProbeAddr = "0", "0"
	o.AllowSeveralInProcess = true
	mgr, err := NewManager(env.Config, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	cm := &corev1.ConfigMap{}
	localcluster.Eventually(t, 30*time.Second, "the version in kube-system", func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: "kube-system", Name: version.ControllerInfoName}, cm); err != nil {
			return err
		}
		if cm.Data[version.KeyVersion] != version.Get().Version {
			return fmt.Errorf("data %v", cm.Data)
		}
		return nil
	})
}

// Without a leader election namespace the pod's namespace is used, and
// outside a pod none (NewManager then uses kube-system, claimNamespace).
func TestControllerNamespace(t *testing.T) {
	old := inClusterNamespaceFile
	t.Cleanup(func() { inClusterNamespaceFile = old })
	inClusterNamespaceFile = filepath.Join(t.TempDir(), "namespace")
	if ns := controllerNamespace(""); ns != "" {
		t.Errorf("outside a pod: namespace %q, want none", ns)
	}
	if err := os.WriteFile(inClusterNamespaceFile, []byte("svcat-system\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ns := controllerNamespace(""); ns != "svcat-system" {
		t.Errorf("in a pod: namespace %q, want svcat-system", ns)
	}
	if ns := controllerNamespace("elsewhere"); ns != "elsewhere" {
		t.Errorf("with --leader-election-namespace: namespace %q, want elsewhere", ns)
	}
	// Without a namespace Start skips instead of failing the manager.
	if err := (&infoPublisher{log: logr.Discard()}).Start(context.Background()); err != nil {
		t.Errorf("Start without a namespace: %v", err)
	}
}
