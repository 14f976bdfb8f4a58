package doctor

import (
	"crypto/x509"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Causes of an unavailable APIService, from its Available condition.
const (
	CauseAllowedNamesMismatch = "AllowedNamesMismatch"
	CauseUnauthorized         = "Unauthorized"
	CauseForbidden            = "Forbidden"
	CauseServiceNotFound      = "ServiceNotFound"
	CauseNoEndpoints          = "NoEndpoints"
	CauseConnectionRefused    = "ConnectionRefused"
	CauseTLS                  = "TLS"
	CauseTimeout              = "Timeout"
	CauseDNS                  = "DNS"
	CauseBackendError         = "BackendError"
	CauseUnknown              = "Unknown"
)

// badStatus matches the kube-aggregator's availability check message for a
// backend that answered with a status outside 2xx and 3xx.
var badStatus = regexp.MustCompile(`bad status from \S+: (\d{3})`)

// ClassifyAvailable names the cause of an APIService's Available=False
// from the condition's reason and message, as the kube-aggregator's
// availability controller writes them, and the HTTP status when the
// backend answered.
func ClassifyAvailable(c *Condition) (cause string, status int) {
	if c == nil {
		return CauseUnknown, 0
	}
	switch c.Reason {
	case "ServiceNotFound":
		return CauseServiceNotFound, 0
	case "EndpointsNotFound", "MissingEndpoints", "ServicePortError":
		return CauseNoEndpoints, 0
	}
	msg := c.Message
	if m := badStatus.FindStringSubmatch(msg); m != nil {
		status, _ = strconv.Atoi(m[1])
		switch status {
		case 401:
			return CauseUnauthorized, status
		case 403:
			return CauseForbidden, status
		}
		return CauseBackendError, status
	}
	switch {
	case strings.Contains(msg, "connection refused"):
		return CauseConnectionRefused, 0
	case strings.Contains(msg, "x509:"), strings.Contains(msg, "tls:"), strings.Contains(msg, "certificate"):
		return CauseTLS, 0
	case strings.Contains(msg, "no such host"), strings.Contains(msg, "lookup "):
		return CauseDNS, 0
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "timed out"), strings.Contains(msg, "deadline exceeded"),
		strings.Contains(msg, "no route to host"):
		return CauseTimeout, 0
	case strings.Contains(msg, "no endpoints available"):
		return CauseNoEndpoints, 0
	}
	return CauseUnknown, 0
}

// Mismatch is what CheckAggregationFindings learned about the front-proxy
// identity, for rendering the allowed-names fixes.
type Mismatch struct {
	// Current are requestheader-allowed-names now.
	Current []string
	// CN is the front-proxy client certificate's CN when it was read and is
	// not allowed; empty when unknown.
	CN string
	// Rejected is set when some backend answered 401 or 403 to the
	// kube-apiserver's proxied requests.
	Rejected bool
}

// CheckAggregationFindings checks the front-proxy configuration the
// kube-apiserver publishes for aggregated API servers and every APIService
// it proxies. The Mismatch is non-nil when the allowed names are the likely
// or certain cause of backends rejecting the kube-apiserver.
func CheckAggregationFindings(ev AggregationEvidence, now time.Time) ([]Finding, *Mismatch) {
	var fs []Finding
	rh := ev.RequestHeader
	var remote, unavailable []APIService
	for _, s := range ev.APIServices {
		if s.Service == nil {
			continue
		}
		remote = append(remote, s)
		if s.Available == nil || s.Available.Status != "True" {
			unavailable = append(unavailable, s)
		}
	}

	// What the kube-apiserver tells aggregated API servers to trust.
	cfg := requestHeaderEvidence(rh)
	var mismatch *Mismatch
	certFinding, cnAllowed, cn := proxyCertFinding(ev, now)
	// configKnown: the allowed names doctor shows are the ones backends
	// use, not an empty list for want of reading them.
	configKnown := ev.AuthErr == nil && ev.AuthFound && rh.Present
	switch {
	case ev.AuthErr != nil:
		fs = append(fs, cannotRead(CheckAggregation, "kube-system/extension-apiserver-authentication", ev.AuthErr))
	case !ev.AuthFound || !rh.Present:
		sev := OK
		summary := "the kube-apiserver has no front-proxy configuration; no aggregated APIs need it"
		if len(remote) > 0 {
			sev = Error
			summary = "the kube-apiserver publishes no front-proxy configuration: aggregated API servers cannot authenticate its requests"
		}
		f := Finding{Check: CheckAggregation, Severity: sev, Summary: summary,
			Evidence: []string{"kube-system/extension-apiserver-authentication has no requestheader-client-ca-file"}}
		if sev == Error {
			f.Cause = "NoRequestHeaderConfig"
			f.Fix = []string{"run the kube-apiserver with --requestheader-client-ca-file, --requestheader-allowed-names, --requestheader-username-headers=X-Remote-User, --requestheader-group-headers=X-Remote-Group, --requestheader-extra-headers-prefix=X-Remote-Extra- and --proxy-client-cert-file/--proxy-client-key-file"}
		}
		fs = append(fs, f)
	default:
		mismatch = &Mismatch{Current: rh.AllowedNames}
		if certFinding != nil && !cnAllowed && cn != "" {
			mismatch.CN = cn
		}
		fs = append(fs, Finding{Check: CheckAggregation, Severity: OK,
			Summary:  "the kube-apiserver publishes its front-proxy configuration for aggregated API servers",
			Evidence: cfg})
	}
	if certFinding != nil {
		fs = append(fs, *certFinding)
	}

	for _, s := range unavailable {
		f := apiServiceFinding(s, rh, configKnown, mismatch)
		if mismatch != nil && (f.Cause == CauseUnauthorized || f.Cause == CauseForbidden || f.Cause == CauseAllowedNamesMismatch) {
			mismatch.Rejected = true
		}
		fs = append(fs, f)
	}
	if ev.APIServicesErr != nil {
		fs = append(fs, cannotRead(CheckAggregation, "APIServices", ev.APIServicesErr))
	} else if len(unavailable) == 0 {
		fs = append(fs, Finding{Check: CheckAggregation, Severity: OK,
			Summary: fmt.Sprintf("%s, all Available (%d more served by the kube-apiserver itself)",
				plural(len(remote), "aggregated APIService"), len(ev.APIServices)-len(remote))})
	}
	if mismatch != nil && mismatch.CN == "" && !mismatch.Rejected {
		mismatch = nil
	}
	return fs, mismatch
}

func requestHeaderEvidence(rh RequestHeader) []string {
	if !rh.Present {
		return nil
	}
	allowed := "requestheader-allowed-names: " + formatList(rh.AllowedNames)
	if len(rh.AllowedNames) == 0 {
		allowed += " (any certificate the CA signed is accepted)"
	}
	ev := []string{allowed}
	for _, c := range rh.ClientCA {
		ev = append(ev, fmt.Sprintf("requestheader-client-ca-file: %q, expires %s", c.Subject.String(), c.NotAfter.UTC().Format(time.DateOnly)))
	}
	if rh.ClientCAErr != nil {
		ev = append(ev, "requestheader-client-ca-file: "+rh.ClientCAErr.Error())
	}
	ev = append(ev,
		"requestheader-username-headers: "+formatList(rh.UsernameHeaders),
		"requestheader-group-headers: "+formatList(rh.GroupHeaders),
		"requestheader-extra-headers-prefix: "+formatList(rh.ExtraPrefixes))
	return ev
}

func formatList(items []string) string {
	return "[" + strings.Join(items, ",") + "]"
}

// proxyCertFinding checks the front-proxy client certificate the user gave
// against the published configuration, the way an aggregated API server's
// request-header authenticator does: the chain must verify against the
// requestheader CA for client auth, and the CN must be an allowed name.
func proxyCertFinding(ev AggregationEvidence, now time.Time) (f *Finding, cnAllowed bool, cn string) {
	if ev.ProxyCertPath == "" {
		return nil, false, ""
	}
	subject := "front-proxy client certificate " + ev.ProxyCertPath
	if ev.ProxyCertErr != nil {
		return &Finding{Check: CheckAggregation, Severity: Warning, Cause: "CannotRead", Subject: subject,
			Summary: fmt.Sprintf("cannot read the front-proxy client certificate: %v", ev.ProxyCertErr),
			Fix:     []string{"pass the kube-apiserver's --proxy-client-cert-file, readable on a control-plane node"}}, false, ""
	}
	c := ev.ProxyCert
	cn = c.Subject.CommonName
	rh := ev.RequestHeader
	cnAllowed = len(rh.AllowedNames) == 0 || slices.Contains(rh.AllowedNames, cn)
	evidence := []string{
		fmt.Sprintf("subject %q, issuer %q, valid until %s", c.Subject.String(), c.Issuer.String(), c.NotAfter.UTC().Format(time.RFC3339)),
		"requestheader-allowed-names: " + formatList(rh.AllowedNames),
	}
	switch {
	case now.After(c.NotAfter):
		return &Finding{Check: CheckAggregation, Severity: Error, Cause: "ProxyCertExpired", Subject: subject,
			Summary:  "the front-proxy client certificate expired on " + c.NotAfter.UTC().Format(time.RFC3339),
			Evidence: evidence,
			Fix:      []string{"renew the front-proxy client certificate (kubeadm: kubeadm certs renew front-proxy-client) and restart the kube-apiserver"}}, cnAllowed, cn
	case !rh.Present || len(rh.ClientCA) == 0:
		return &Finding{Check: CheckAggregation, Severity: Warning, Cause: "NotChecked", Subject: subject,
			Summary:  fmt.Sprintf("the front-proxy client certificate's CN is %q; without the published requestheader configuration doctor cannot check it", cn),
			Evidence: evidence[:1]}, cnAllowed, cn
	case !verifiesForClientAuth(c, rh.ClientCA, now):
		return &Finding{Check: CheckAggregation, Severity: Error, Cause: "ProxyCertUntrusted", Subject: subject,
			Summary:  "the front-proxy client certificate is not signed by the requestheader CA, so every aggregated API server rejects it",
			Evidence: evidence,
			Fix:      []string{"sign the front-proxy client certificate with the CA in --requestheader-client-ca-file (the aggregation layer's own CA, not the cluster CA), or point that flag at its signer"}}, cnAllowed, cn
	case !cnAllowed:
		return &Finding{Check: CheckAggregation, Severity: Error, Cause: CauseAllowedNamesMismatch, Subject: subject,
			Summary: fmt.Sprintf("the front-proxy client certificate's CN %q is not in requestheader-allowed-names %s, so every aggregated API server answers 401",
				cn, formatList(rh.AllowedNames)),
			Evidence: evidence,
			Fix:      []string{fmt.Sprintf("add %q to the kube-apiserver's --requestheader-allowed-names on every control-plane node and restart it; the fixes below do it per platform", cn)}}, false, cn
	}
	return &Finding{Check: CheckAggregation, Severity: OK, Subject: subject,
		Summary:  fmt.Sprintf("the front-proxy client certificate's CN %q is allowed and its chain verifies", cn),
		Evidence: evidence}, true, cn
}

func verifiesForClientAuth(c *x509.Certificate, roots []*x509.Certificate, now time.Time) bool {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	_, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}

// apiServiceFinding explains one unavailable APIService.
func apiServiceFinding(s APIService, rh RequestHeader, configKnown bool, mismatch *Mismatch) Finding {
	svc := fmt.Sprintf("service/%s in %s, port %d", s.Service.Name, s.Service.Namespace, s.Service.Port)
	f := Finding{Check: CheckAggregation, Severity: Error, Subject: "apiservice/" + s.Name}
	if s.Available == nil {
		f.Severity, f.Cause = Warning, "NotChecked"
		f.Summary = "APIService " + s.Name + " has no Available condition yet"
		f.Evidence = []string{"backend: " + svc}
		f.Fix = []string{"the kube-apiserver checks new APIServices within seconds; if this stays, its availability controller is not running"}
		return f
	}
	cause, status := ClassifyAvailable(s.Available)
	f.Cause = cause
	f.Evidence = []string{"backend: " + svc, conditionLine("Available", s.Available)}
	lead := "APIService " + s.Name + " is unavailable"
	pods := fmt.Sprintf("kubectl get pods -n %s, and the logs of the Pods behind service/%s", s.Service.Namespace, s.Service.Name)
	switch cause {
	case CauseUnauthorized, CauseForbidden:
		f.Summary = fmt.Sprintf("%s: its backend answered %d to the kube-apiserver's proxied discovery request", lead, status)
		if cause == CauseForbidden {
			f.Summary += " (a backend that allows anonymous requests answers 403 instead of 401 when it does not trust the proxy)"
		}
		if configKnown {
			f.Evidence = append(f.Evidence, "requestheader-allowed-names: "+formatList(rh.AllowedNames))
		}
		switch {
		case !configKnown:
			f.Fix = []string{
				"doctor could not read the front-proxy configuration the kube-apiserver publishes (see above), which backends need to trust it",
				"when it is there, the usual cause is the front-proxy client certificate's CN missing from requestheader-allowed-names: run svcat doctor as a cluster admin, with --proxy-client-cert FILE on a control-plane node",
			}
		case mismatch != nil && mismatch.CN != "":
			f.Cause = CauseAllowedNamesMismatch
			f.Summary = fmt.Sprintf("%s: its backend rejects the kube-apiserver's front-proxy certificate (CN %q is not in requestheader-allowed-names %s)",
				lead, mismatch.CN, formatList(rh.AllowedNames))
			f.Fix = []string{fmt.Sprintf("add %q to --requestheader-allowed-names (fixes below)", mismatch.CN)}
		case len(rh.AllowedNames) > 0:
			f.Fix = []string{
				"the usual cause is the kube-apiserver's front-proxy client certificate (--proxy-client-cert-file) having a CN that is not in " + formatList(rh.AllowedNames),
				"read its CN on a control-plane node with: openssl x509 -noout -subject -in FILE, or run svcat doctor there with --proxy-client-cert FILE",
				"then print the fix for your platform: svcat doctor aggregation --fix all --allowed-name CN [--deployment BOSH-DEPLOYMENT]",
			}
		default:
			f.Fix = []string{
				"requestheader-allowed-names is empty, so the name is not the cause: check that the front-proxy client certificate is signed by the requestheader CA (svcat doctor --proxy-client-cert FILE on a control-plane node)",
				"and that the backend's service account may read kube-system/extension-apiserver-authentication (Role extension-apiserver-authentication-reader) and create SubjectAccessReviews (ClusterRole system:auth-delegator)",
			}
		}
	case CauseServiceNotFound:
		f.Summary = lead + ": its Service does not exist"
		f.Fix = []string{"install the API server the APIService belongs to, or delete the stale APIService: kubectl delete apiservice " + s.Name}
	case CauseNoEndpoints:
		f.Summary = lead + ": its Service has no ready endpoints"
		f.Fix = []string{pods}
	case CauseConnectionRefused:
		f.Summary = lead + ": nothing listens at its backend's address"
		f.Fix = []string{pods, "the Service's targetPort must be the port the API server listens on"}
	case CauseTLS:
		f.Summary = lead + ": TLS with its backend failed"
		f.Fix = []string{fmt.Sprintf("the APIService's caBundle must sign the backend's serving certificate, which must name %s.%s.svc", s.Service.Name, s.Service.Namespace)}
	case CauseTimeout:
		f.Summary = lead + ": the kube-apiserver cannot reach its backend in time"
		f.Fix = []string{"the kube-apiserver must reach Pod or Service IPs: check network policies and firewalls between control-plane nodes and Pods, or run the backend with hostNetwork"}
	case CauseDNS:
		f.Summary = lead + ": the kube-apiserver cannot resolve its backend's name"
		f.Fix = []string{"check the Service's externalName, or the control-plane node's DNS"}
	case CauseBackendError:
		f.Summary = fmt.Sprintf("%s: its backend answered %d", lead, status)
		f.Fix = []string{pods}
	default:
		f.Summary = lead + ": " + s.Available.Message
		f.Fix = []string{pods}
	}
	return f
}
