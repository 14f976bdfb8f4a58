package sandbox

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// KeepDefaultTopics stands in for the broker's missing default topic while
// `make sandbox` runs: every binding Secret the controller writes gets its
// `<topicPrefix>default`, so the sample apps work against any instance the
// user creates. It returns when ctx ends.
func (s *Sandbox) KeepDefaultTopics(ctx context.Context) {
	done := map[string]bool{}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		var list corev1.SecretList
		if err := s.Env.Client.List(ctx, &list, client.MatchingLabels{scv1beta1.LabelManagedBy: scv1beta1.ManagedByValue}); err != nil {
			return
		}
		for _, sec := range list.Items {
			p := string(sec.Data["topicPrefix"])
			if p == "" || done[p] {
				continue
			}
			if err := s.ensureDefaultTopic(ctx, p); err == nil {
				done[p] = true
			}
		}
	}, 2*time.Second)
}

// PrintTry prints the KUBECONFIG line and the commands to try, for
// `make sandbox`.
func (s *Sandbox) PrintTry(w io.Writer, binDir string) {
	bin := func(name string) string { return filepath.Join(binDir, name) }
	bindings := filepath.Join(s.work, "bindings")
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	// Without kubectl, the same commands run with the in-process one.
	kubectl := "kubectl"
	if _, ok := s.kubectl.(inProcessKubectl); ok {
		kubectl = bin("svcat-sandbox") + " kubectl"
	}
	p("\nThe sandbox is running. In another shell, from %s:\n\n", s.root)
	p("  export KUBECONFIG=%s\n", s.Kubeconfig)
	p("  export PATH=%s:$PATH\n\n", binDir)
	p("  svcat marketplace\n")
	p("  svcat get plans\n")
	p("  %s get clusterserviceclasses -o custom-columns=CLASS:.spec.externalName,DESCRIPTION:.spec.description\n", kubectl)
	p("  %s apply -f %s\n", kubectl, InstanceFile)
	p("  svcat describe instance %s\n", InstanceName)
	p("  %s apply -f %s\n", kubectl, BindingFile)
	p("  %s describe secret %s\n", kubectl, SecretName)
	p("  %s mount-secret %s/%s %s\n", bin("svcat-sandbox"), SeedNamespace, SecretName, filepath.Join(bindings, BindingName))
	p("  SERVICE_BINDING_ROOT=%s %s --listen 127.0.0.1:8082 &\n", bindings, bin("demo-kafka-consumer"))
	p("  SERVICE_BINDING_ROOT=%s %s --listen 127.0.0.1:8081 &\n", bindings, bin("demo-kafka-producer"))
	p("  curl -N 127.0.0.1:8082/messages &\n")
	p("  curl 127.0.0.1:8081/messages -H Content-Type:text/plain -d Hello\n\n")
	p("The broker's OSB API is http://%s (user %s, password %s).\n", s.BrokerAddr, BrokerUser, s.BrokerPassword)
	p("Logs of the controller and the broker: %s\n", s.logFile.Name())
	p("Ctrl-C stops everything and removes %s.\n", s.work)
}

// MountSecret writes a Secret's data into dir, one file per key, as a
// Secret volume would; the sample apps read it as a servicebinding.io
// directory.
func MountSecret(ctx context.Context, c client.Client, namespace, name, dir string) ([]string, error) {
	var sec corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &sec); err != nil {
		return nil, err
	}
	return writeFiles(sec.Data, dir)
}
