package controllermanager

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/version"
)

// inClusterNamespaceFile is where a pod finds its namespace; a variable so
// tests can point it elsewhere.
var inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// infoPublisher writes the controller's version into the ConfigMap
// version.ControllerInfoName, which `svcat version` reads. Only the leader
// runs it, so the ConfigMap describes the replica that is reconciling, and
// a new leader of another version overwrites it on takeover.
//
// Its RBAC marker (configmaps get;create;update;patch) sits with the
// manager's other markers in internal/controller/setup.go, the only
// package controller-gen reads.
type infoPublisher struct {
	c         client.Client
	namespace string // empty: unknown, nothing is published
	info      version.Info
	startedAt time.Time
	log       logr.Logger
}

// newInfoPublisher publishes in namespace (the controller's, see
// claimNamespace).
func newInfoPublisher(mgr ctrl.Manager, namespace string) *infoPublisher {
	return &infoPublisher{
		// Apply goes straight to the API server: reading through the
		// manager's cache would start a watch on every ConfigMap.
		c:         mgr.GetClient(),
		namespace: namespace,
		info:      version.Get(),
		startedAt: time.Now().UTC(),
		log:       ctrl.Log.WithName("info"),
	}
}

// controllerNamespace is where the controller keeps its objects: the
// leader election namespace when set, else the pod's namespace, as
// controller-runtime picks for the Lease; empty outside a pod.
func controllerNamespace(leaderElectionNamespace string) string {
	if leaderElectionNamespace != "" {
		return leaderElectionNamespace
	}
	b, err := os.ReadFile(inClusterNamespaceFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// NeedLeaderElection makes the manager start it only on the leader.
func (p *infoPublisher) NeedLeaderElection() bool { return true }

// Start publishes once, retrying transient failures. It never returns an
// error: the version is informational, and a failure must not stop the
// reconcilers.
func (p *infoPublisher) Start(ctx context.Context) error {
	if p.namespace == "" {
		p.log.Info("not publishing the controller version: no --leader-election-namespace and not running in a pod")
		return nil
	}
	delay := time.Second
	for {
		err := p.publish(ctx)
		switch {
		case err == nil:
			p.log.Info("published the controller version", "configMap", p.namespace+"/"+version.ControllerInfoName, "version", p.info.Version)
			return nil
		case apierrors.IsForbidden(err):
			// Retrying cannot help: the RBAC is older than this binary.
			p.log.Error(err, "not publishing the controller version: the ServiceAccount may not write ConfigMaps; `svcat version` will not show it")
			return nil
		}
		if ctx.Err() != nil {
			return nil // shutting down, or no longer the leader
		}
		p.log.Error(err, "publishing the controller version failed; retrying", "in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Minute)
	}
}

func (p *infoPublisher) publish(ctx context.Context) error {
	cm := corev1ac.ConfigMap(version.ControllerInfoName, p.namespace).
		WithLabels(version.ControllerInfoLabels()).
		WithData(map[string]string{
			version.KeyVersion:   p.info.Version,
			version.KeyGitCommit: p.info.GitCommit,
			version.KeyGoVersion: p.info.GoVersion,
			version.KeyStartedAt: p.startedAt.Format(time.RFC3339),
		})
	// Server-side apply creates or updates in one request, and forcing
	// takes the fields over from a previous leader of another version.
	return p.c.Apply(ctx, cm, client.FieldOwner(version.ControllerName), client.ForceOwnership)
}
