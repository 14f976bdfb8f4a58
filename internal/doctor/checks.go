package doctor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	scv1beta1 "github.com/svcat-io/svcat/api/v1beta1"
)

// ExpectedCRDs are the CRDs svcat needs, by name.
var ExpectedCRDs = []string{
	"clusterservicebrokers." + scv1beta1.GroupVersion.Group,
	"clusterserviceclasses." + scv1beta1.GroupVersion.Group,
	"clusterserviceplans." + scv1beta1.GroupVersion.Group,
	"servicebindings." + scv1beta1.GroupVersion.Group,
	"servicebrokers." + scv1beta1.GroupVersion.Group,
	"serviceclasses." + scv1beta1.GroupVersion.Group,
	"serviceinstances." + scv1beta1.GroupVersion.Group,
	"serviceplans." + scv1beta1.GroupVersion.Group,
}

// installCRDs is how to install the CRDs; the Helm chart will install them
// too once it exists.
const installCRDs = "install the CRDs from a svcat checkout: kubectl apply -f config/crd/bases (the svcat Helm chart, charts/svcat, installs them too)"

// cannotRead turns a read error into a warning: doctor cannot conclude
// anything, but it is not the cluster's fault when the user lacks access.
func cannotRead(check, what string, err error) Finding {
	f := Finding{Check: check, Severity: Warning, Cause: "CannotRead",
		Summary: fmt.Sprintf("cannot read %s: %v", what, err)}
	if apierrors.IsForbidden(err) {
		f.Fix = []string{"run doctor as a user who may read " + what + " (a cluster admin sees everything doctor checks)"}
	}
	return f
}

// CheckCRDsFindings checks that every svcat CRD exists, is established
// and serves the version this svcat was built for.
func CheckCRDsFindings(ev CRDEvidence) []Finding {
	if ev.Err != nil {
		return []Finding{cannotRead(CheckCRDs, "CustomResourceDefinitions", ev.Err)}
	}
	version := scv1beta1.GroupVersion.Version
	var missing, notEstablished, wrongVersion []string
	var evidence []string
	for _, name := range ExpectedCRDs {
		crd, ok := ev.Found[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case !crd.Established || !crd.NamesAccepted:
			notEstablished = append(notEstablished, name)
			if crd.Message != "" {
				evidence = append(evidence, name+": "+crd.Message)
			}
		case !slices.Contains(crd.Served, version):
			wrongVersion = append(wrongVersion, name)
			evidence = append(evidence, fmt.Sprintf("%s serves %s", name, strings.Join(crd.Served, ", ")))
		}
	}
	var fs []Finding
	if len(missing) > 0 {
		summary := fmt.Sprintf("%d of %d svcat CRDs are not installed", len(missing), len(ExpectedCRDs))
		evidence := prefixed("missing: ", missing)
		if len(missing) == len(ExpectedCRDs) {
			summary = "svcat's CRDs are not installed"
			evidence = []string{fmt.Sprintf("none of the %d CRDs of %s exist", len(ExpectedCRDs), scv1beta1.GroupVersion.Group)}
		}
		evidence = append(evidence, "brokers and operations are not checked without them")
		fs = append(fs, Finding{Check: CheckCRDs, Severity: Error, Cause: "CRDsMissing", Summary: summary,
			Evidence: evidence, Fix: []string{installCRDs}})
	}
	if len(notEstablished) > 0 {
		fs = append(fs, Finding{Check: CheckCRDs, Severity: Error, Cause: "CRDsNotEstablished",
			Summary:  fmt.Sprintf("%d svcat CRDs are not established: the API server does not serve them", len(notEstablished)),
			Evidence: append(prefixed("not established: ", notEstablished), evidence...),
			Fix:      []string{"kubectl describe crd NAME shows why; a names conflict with another CRD of the same group is the usual cause"}})
		evidence = nil
	}
	if len(wrongVersion) > 0 {
		fs = append(fs, Finding{Check: CheckCRDs, Severity: Error, Cause: "CRDsWrongVersion",
			Summary:  fmt.Sprintf("%d svcat CRDs do not serve %s, the version this svcat uses", len(wrongVersion), version),
			Evidence: evidence,
			Fix:      []string{"update the CRDs to this svcat's: kubectl apply -f config/crd/bases from the matching svcat checkout"}})
	}
	if len(fs) > 0 {
		return fs
	}
	f := Finding{Check: CheckCRDs, Severity: OK,
		Summary: fmt.Sprintf("%d svcat CRDs are installed, established and serve %s", len(ExpectedCRDs), scv1beta1.GroupVersion)}
	if ev.ViaDiscovery {
		f.Evidence = []string{"read through API discovery: this user may not read CustomResourceDefinitions"}
	}
	return []Finding{f}
}

func prefixed(prefix string, items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = prefix + s
	}
	return out
}

// CheckControllerFindings checks that a catalog controller holds a fresh
// leader lease, and that its Deployment, where one exists, is ready.
func CheckControllerFindings(ev ControllerEvidence, now time.Time, slack time.Duration) []Finding {
	lease := "lease " + ev.Namespace + "/" + ev.LeaseName
	deploy := "deployment " + ev.Namespace + "/" + ev.DeploymentName
	var evidence []string
	deployReady := false
	switch {
	case ev.DeploymentErr != nil:
		evidence = append(evidence, fmt.Sprintf("%s: cannot read: %v", deploy, ev.DeploymentErr))
	case ev.Deployment == nil:
		evidence = append(evidence, deploy+": not found (fine when the controller runs elsewhere)")
	default:
		d := ev.Deployment
		deployReady = d.Replicas > 0 && d.Available > 0
		line := fmt.Sprintf("%s: %d/%d replicas ready, %d available", deploy, d.Ready, d.Replicas, d.Available)
		if d.Message != "" {
			line += ": " + d.Message
		}
		evidence = append(evidence, line)
	}
	logs := fmt.Sprintf("kubectl logs deployment/%s -n %s shows why it stopped", ev.DeploymentName, ev.Namespace)

	if ev.LeaseErr != nil {
		f := cannotRead(CheckController, lease, ev.LeaseErr)
		f.Evidence = evidence
		return []Finding{f}
	}
	if ev.Lease == nil {
		if deployReady {
			return []Finding{{Check: CheckController, Severity: Warning, Cause: "NoLease",
				Summary:  fmt.Sprintf("the controller's Deployment is ready but no %s exists", lease),
				Evidence: evidence,
				Fix:      []string{"run the controller with --leader-elect so that only one replica reconciles, or pass --controller-namespace if it elects in another namespace"}}}
		}
		return []Finding{{Check: CheckController, Severity: Error, Cause: "ControllerNotRunning",
			Summary:  fmt.Sprintf("no catalog controller is running: %s does not exist", lease),
			Evidence: evidence,
			Fix: []string{"install the catalog controller with the svcat Helm chart (charts/svcat), or pass --controller-namespace if it runs in another namespace",
				"without the controller, brokers, instances and bindings are stored but nothing acts on them"}}}
	}
	l := ev.Lease
	age := now.Sub(l.RenewTime)
	evidence = append([]string{fmt.Sprintf("%s: holder %q, renewed %s ago, duration %s", lease, l.Holder, roundDuration(age), l.Duration)}, evidence...)
	var fs []Finding
	switch {
	case l.Holder == "":
		fs = append(fs, Finding{Check: CheckController, Severity: Error, Cause: "ControllerNotRunning",
			Summary:  "no catalog controller is running: the last leader released " + lease,
			Evidence: evidence, Fix: []string{logs}})
	case age > l.Duration+slack:
		fs = append(fs, Finding{Check: CheckController, Severity: Error, Cause: "LeaseExpired",
			Summary:  fmt.Sprintf("the catalog controller %q stopped renewing its lease %s ago", l.Holder, roundDuration(age)),
			Evidence: evidence,
			Fix:      []string{logs, "a controller that runs but cannot reach the API server also stops renewing"}})
	default:
		fs = append(fs, Finding{Check: CheckController, Severity: OK,
			Summary:  fmt.Sprintf("the catalog controller %q leads (lease renewed %s ago)", l.Holder, roundDuration(age)),
			Evidence: evidence})
		if ev.Deployment != nil && ev.Deployment.Ready < ev.Deployment.Replicas {
			fs = append(fs, Finding{Check: CheckController, Severity: Warning, Cause: "DeploymentNotReady",
				Summary:  fmt.Sprintf("%s has %d of %d replicas ready", deploy, ev.Deployment.Ready, ev.Deployment.Replicas),
				Evidence: evidence[1:],
				Fix:      []string{fmt.Sprintf("kubectl describe deployment %s -n %s", ev.DeploymentName, ev.Namespace)}})
		}
	}
	return fs
}

// roundDuration keeps durations readable: seconds below an hour, minutes
// above.
func roundDuration(d time.Duration) time.Duration {
	if d < 0 {
		d = 0
	}
	if d >= time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

func brokerSubject(b Broker) string {
	if b.Kind == "ClusterServiceBroker" {
		return "clusterservicebroker/" + b.Name
	}
	return "servicebroker/" + b.Namespace + "/" + b.Name
}

func describeBroker(b Broker) string {
	if b.Kind == "ClusterServiceBroker" {
		return "svcat describe broker " + b.Name + " --scope cluster"
	}
	return "svcat describe broker " + b.Name + " -n " + b.Namespace
}

func conditionLine(name string, c *Condition) string {
	s := fmt.Sprintf("%s=%s", name, c.Status)
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	if c.Message != "" {
		s += ": " + c.Message
	}
	return s
}

// CheckBrokersFindings checks that every broker is Ready.
func CheckBrokersFindings(ev BrokerEvidence) []Finding {
	if ev.Err != nil {
		return []Finding{cannotRead(CheckBrokers, "brokers", ev.Err)}
	}
	var fs []Finding
	ready := 0
	for _, b := range ev.Items {
		subject := brokerSubject(b)
		evidence := []string{"url: " + b.URL}
		switch {
		case b.Failed != nil && b.Failed.Status == "True":
			fs = append(fs, Finding{Check: CheckBrokers, Severity: Error, Subject: subject, Cause: orDefault(b.Failed.Reason, "Failed"),
				Summary:  "broker " + b.Name + " failed: " + b.Failed.Message,
				Evidence: append(evidence, conditionLine("Failed", b.Failed)),
				Fix:      []string{"correct the broker's spec; the controller retries when it changes"}})
		case b.Ready != nil && b.Ready.Status == "True":
			ready++
		case b.Ready != nil:
			fs = append(fs, Finding{Check: CheckBrokers, Severity: Error, Subject: subject, Cause: orDefault(b.Ready.Reason, "NotReady"),
				Summary:  "broker " + b.Name + " is not Ready: " + b.Ready.Message,
				Evidence: append(evidence, conditionLine("Ready", b.Ready)),
				Fix:      brokerFix(b)})
		default:
			fs = append(fs, Finding{Check: CheckBrokers, Severity: Warning, Subject: subject, Cause: "NotReconciled",
				Summary:  "broker " + b.Name + " has not been reconciled yet",
				Evidence: append(evidence, fmt.Sprintf("generation %d, reconciled generation %d, no Ready condition", b.Generation, b.ReconciledGeneration)),
				Fix:      []string{"the catalog controller sets Ready when it first fetches the catalog: check the controller"}})
		}
	}
	if len(fs) == 0 {
		summary := fmt.Sprintf("%d brokers, all Ready", ready)
		switch ready {
		case 0:
			summary = "no brokers are registered (svcat register adds one)"
		case 1:
			summary = "1 broker, Ready"
		}
		return []Finding{{Check: CheckBrokers, Severity: OK, Summary: summary}}
	}
	return fs
}

func brokerFix(b Broker) []string {
	fix := []string{describeBroker(b) + " shows the latest error"}
	// The controller reports missing credentials as v0.3 did, with reason
	// ErrorFetchingCatalog; ErrorGettingAuthCredentials is older svcat's.
	credentials := b.Ready.Reason == "ErrorGettingAuthCredentials" ||
		(b.Ready.Reason == "ErrorFetchingCatalog" && strings.HasPrefix(b.Ready.Message, "Error getting broker auth credentials"))
	switch {
	case credentials:
		fix = append(fix, "check that the Secret named in spec.authInfo exists and has the keys the auth type needs")
	case b.Ready.Reason == "ErrorFetchingCatalog":
		fix = append(fix, "check that the broker answers at "+b.URL+" from the controller's network, and its credentials")
	case b.Ready.Reason == "ErrorSyncingCatalog" || b.Ready.Reason == "ErrorInvalidCatalogRestrictions":
		fix = append(fix, "the broker's catalog or the broker's catalogRestrictions need correcting")
	}
	return fix
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// CheckOperationsFindings warns about instances and bindings whose
// operation has run longer than stuckAfter.
func CheckOperationsFindings(ev OperationEvidence, now time.Time, stuckAfter time.Duration) []Finding {
	if ev.Err != nil {
		return []Finding{cannotRead(CheckOperations, "instances and bindings", ev.Err)}
	}
	var fs []Finding
	for _, op := range ev.Items {
		age := now.Sub(op.Since)
		if op.Since.IsZero() || age < stuckAfter {
			continue
		}
		kind := strings.ToLower(strings.TrimPrefix(op.Kind, "Service"))
		subject := "service" + kind + "/" + op.Namespace + "/" + op.Name
		evidence := []string{fmt.Sprintf("status.currentOperation: %s, started %s ago", orDefault(op.Operation, "(none)"), roundDuration(age))}
		if op.Async {
			evidence = append(evidence, "status.asyncOpInProgress: true: the broker accepted the operation and the controller polls it")
		}
		if op.Ready != nil {
			evidence = append(evidence, conditionLine("Ready", op.Ready))
		}
		fix := []string{fmt.Sprintf("svcat describe %s %s -n %s shows the broker's last answer", kind, op.Name, op.Namespace)}
		if kind == "instance" {
			fix = append(fix, "if the broker lost the operation, svcat deprovision --abandon removes the instance without calling it")
		}
		fs = append(fs, Finding{Check: CheckOperations, Severity: Warning, Subject: subject, Cause: "OperationStuck",
			Summary:  fmt.Sprintf("%s %s/%s has been in %s for %s", kind, op.Namespace, op.Name, orDefault(op.Operation, "an operation"), roundDuration(age)),
			Evidence: evidence, Fix: fix})
	}
	if len(fs) == 0 {
		return []Finding{{Check: CheckOperations, Severity: OK,
			Summary: fmt.Sprintf("no instance or binding has been in an operation for %s or more", stuckAfter)}}
	}
	return fs
}
