package doctor

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Fix formats: how the kube-apiserver's flags are managed on a platform.
const (
	// FixFlag is the flag itself, with the commands that change it by hand
	// on a BOSH-managed master (PKS, CFCR) as the seed did: sed on bpm.yml
	// and a monit restart.
	FixFlag = "flag"
	// FixOpsFile is a CFCR ops-file replacing the kube-apiserver job's
	// k8s-args property.
	FixOpsFile = "ops-file"
	// FixRuntimeConfig is a BOSH runtime-config whose os-conf
	// pre-start-script addon applies the sed before every start, so it
	// survives BOSH recreating the VM.
	FixRuntimeConfig = "runtime-config"
)

// FixFormats lists the formats in the order doctor prints them.
var FixFormats = []string{FixFlag, FixOpsFile, FixRuntimeConfig}

// FixParams describe the change and where to make it.
type FixParams struct {
	// Current are requestheader-allowed-names now.
	Current []string
	// Add are the names to allow besides them.
	Add []string
	// Deployment is the cluster's BOSH deployment (PKS:
	// service-instance_<uuid>); empty means unknown.
	Deployment string
}

// RenderedFix is one fix as YAML.
type RenderedFix struct {
	Format string `json:"format"`
	Title  string `json:"title"`
	YAML   string `json:"yaml"`
}

// The os-conf release the seed's runtime-config pins; its sha1 is what
// bosh.io publishes for that version.
const (
	osConfVersion = "20.0.0"
	osConfURL     = "https://bosh.io/d/github.com/cloudfoundry/os-conf-release?v=" + osConfVersion
	osConfSHA1    = "a60187f038d45e2886db9df82b72a9ab5fdcc49d"
	bpmFile       = "/var/vcap/jobs/kube-apiserver/config/bpm.yml"
	opsPath       = "/instance_groups/name=master/jobs/name=kube-apiserver/properties/k8s-args/requestheader-allowed-names"
	runtimeName   = "svcat-requestheader-allowed-names"
	flagName      = "--requestheader-allowed-names"
)

// Names go into a comma-separated flag and a sed expression inside shell
// quotes; these characters are safe in all of them.
var (
	validName       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]*$`)
	validDeployment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// ValidateFixParams checks what RenderFix needs.
func ValidateFixParams(p FixParams) error {
	if len(p.Current) == 0 {
		return fmt.Errorf("requestheader-allowed-names is empty, so any certificate signed by the requestheader CA is allowed already: no allowed-names fix applies")
	}
	if len(p.Add) == 0 {
		return fmt.Errorf("no name to allow: pass --allowed-name with the front-proxy client certificate's CN")
	}
	for _, n := range slices.Concat(p.Current, p.Add) {
		if err := ValidateAllowedName(n); err != nil {
			return err
		}
	}
	if p.Deployment != "" {
		return ValidateDeployment(p.Deployment)
	}
	return nil
}

// ValidateAllowedName checks that a name can be written into the flag and
// its sed expression safely.
func ValidateAllowedName(n string) error {
	if !validName.MatchString(n) {
		return fmt.Errorf("allowed name %q: only letters, digits and . _ : @ - can be written into the flag and its sed safely", n)
	}
	return nil
}

// ValidateDeployment checks a BOSH deployment name.
func ValidateDeployment(d string) error {
	if !validDeployment.MatchString(d) {
		return fmt.Errorf("BOSH deployment %q: only letters, digits and . _ - are allowed", d)
	}
	return nil
}

// RenderFix renders the fix in one format. The output is YAML: comments say
// how to apply it.
func RenderFix(format string, p FixParams) (string, error) {
	if err := ValidateFixParams(p); err != nil {
		return "", err
	}
	switch format {
	case FixFlag:
		return renderFlag(p), nil
	case FixOpsFile:
		return renderOpsFile(p), nil
	case FixRuntimeConfig:
		return renderRuntimeConfig(p), nil
	}
	return "", fmt.Errorf("unknown fix format %q: use one of %s or all", format, strings.Join(FixFormats, ", "))
}

// RenderAllFixes renders every format.
func RenderAllFixes(p FixParams) ([]RenderedFix, error) {
	titles := map[string]string{
		FixFlag:          "kube-apiserver flag, and the commands that set it by hand on a BOSH master",
		FixOpsFile:       "CFCR ops-file",
		FixRuntimeConfig: "BOSH runtime-config with os-conf's pre-start-script, lasting across VM recreation",
	}
	var out []RenderedFix
	for _, f := range FixFormats {
		y, err := RenderFix(f, p)
		if err != nil {
			return nil, err
		}
		out = append(out, RenderedFix{Format: f, Title: titles[f], YAML: y})
	}
	return out, nil
}

// newNames are the current names with the added ones after them, once each.
func newNames(p FixParams) string {
	names := slices.Clone(p.Current)
	for _, n := range p.Add {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// sedExpression rewrites the flag's line in bpm.yml. The $ anchors the
// old value at the end of the line, so running it twice changes nothing.
func sedExpression(p FixParams) string {
	old := strings.ReplaceAll(strings.Join(p.Current, ","), ".", `\.`)
	return fmt.Sprintf("s/%s=%s$/%s=%s/", flagName, old, flagName, newNames(p))
}

// plainCandidate are strings that may be plain YAML scalars: no spaces,
// quotes, comment or flow characters.
var plainCandidate = regexp.MustCompile(`^[A-Za-z0-9/.-][A-Za-z0-9._:/,=?@$'"-]*$`)

// scalar renders a YAML scalar on one line: plain when it reads back as
// the same string, else single-quoted, else double-quoted. Marshalling
// libraries fold long lines, which would make commands hard to copy.
func scalar(s string) string {
	if plainCandidate.MatchString(s) && !strings.HasSuffix(s, ":") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte("v: "+s), &m); err == nil && m["v"] == s {
			return s
		}
	}
	if !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	// Go's escapes are a subset of YAML's double-quoted ones.
	return strconv.Quote(s)
}

func deploymentOrPlaceholder(p FixParams) string {
	if p.Deployment == "" {
		return "DEPLOYMENT"
	}
	return p.Deployment
}

func renderFlag(p FixParams) string {
	d := deploymentOrPlaceholder(p)
	var b strings.Builder
	b.WriteString("# svcat doctor fix: the kube-apiserver flag.\n")
	b.WriteString("# Every kube-apiserver must run with it; restart each one after the change.\n")
	b.WriteString("# kubeadm: edit /etc/kubernetes/manifests/kube-apiserver.yaml on each\n")
	b.WriteString("# control-plane node and the kubelet restarts it.\n")
	b.WriteString("# BOSH (PKS, CFCR): the commands edit bpm.yml on every master and restart the\n")
	b.WriteString("# kube-apiserver with monit. BOSH undoes this when it updates or recreates the\n")
	b.WriteString("# VMs: make it last with the runtime-config fix.\n")
	if p.Deployment == "" {
		b.WriteString("# Replace DEPLOYMENT with the cluster's BOSH deployment (bosh deployments;\n")
		b.WriteString("# on PKS service-instance_<uuid>, the uuid from pks cluster NAME).\n")
	}
	fmt.Fprintf(&b, "flag: %s\n", scalar(flagName+"="+newNames(p)))
	b.WriteString("bosh:\n")
	fmt.Fprintf(&b, "  deployment: %s\n", scalar(d))
	fmt.Fprintf(&b, "  file: %s\n", bpmFile)
	b.WriteString("  commands:\n")
	// Literal blocks keep the commands exactly as a shell wants them: no
	// YAML quoting to undo when copying.
	fmt.Fprintf(&b, "  - |-\n    bosh -d %s ssh master -c \"sudo sed -i '%s' %s\"\n", d, sedExpression(p), bpmFile)
	fmt.Fprintf(&b, "  - |-\n    bosh -d %s ssh master -c \"sudo /var/vcap/bosh/bin/monit restart kube-apiserver\"\n", d)
	return b.String()
}

func renderOpsFile(p FixParams) string {
	var b strings.Builder
	b.WriteString("# svcat doctor fix: a CFCR ops-file (CFCR v0.22.0 and later).\n")
	fmt.Fprintf(&b, "# Deploy the cluster with it: bosh -d %s deploy cfcr.yml -o THIS-FILE.yml\n", deploymentOrPlaceholder(p))
	b.WriteString("- type: replace\n")
	fmt.Fprintf(&b, "  path: %s\n", opsPath)
	fmt.Fprintf(&b, "  value: %s\n", scalar(newNames(p)))
	return b.String()
}

func renderRuntimeConfig(p FixParams) string {
	name := runtimeName
	if p.Deployment != "" {
		name += "-" + p.Deployment
	}
	var b strings.Builder
	b.WriteString("# svcat doctor fix: a BOSH runtime-config. os-conf's pre-start-script runs the\n")
	b.WriteString("# sed before every start of the kube-apiserver job, so the flag survives BOSH\n")
	b.WriteString("# updating or recreating the master VMs. Apply it to the BOSH Director with:\n")
	fmt.Fprintf(&b, "#   bosh -n update-runtime-config --name=%s THIS-FILE.yml --no-redact\n", runtimeName)
	b.WriteString("# then redeploy the cluster (PKS: Apply Changes in Ops Manager with the\n")
	b.WriteString("# \"Upgrade all clusters\" errand selected).\n")
	b.WriteString("# If the kube-apiserver's bpm.yml changes in a later release the sed may stop\n")
	b.WriteString("# matching: svcat doctor shows the mismatch again.\n")
	if p.Deployment == "" {
		b.WriteString("# Without --deployment the addon applies to every deployment with kubo's\n")
		b.WriteString("# kube-apiserver job.\n")
	}
	b.WriteString("releases:\n")
	b.WriteString("- name: os-conf\n")
	fmt.Fprintf(&b, "  version: %q\n", osConfVersion)
	fmt.Fprintf(&b, "  url: %s\n", scalar(osConfURL))
	fmt.Fprintf(&b, "  sha1: %s\n", scalar(osConfSHA1))
	b.WriteString("addons:\n")
	fmt.Fprintf(&b, "- name: %s\n", scalar(name))
	b.WriteString("  jobs:\n")
	b.WriteString("  - name: pre-start-script\n")
	b.WriteString("    release: os-conf\n")
	b.WriteString("    properties:\n")
	b.WriteString("      script: |\n")
	b.WriteString("        #!/bin/bash\n")
	fmt.Fprintf(&b, "        sed -i '%s' %s\n", sedExpression(p), bpmFile)
	b.WriteString("  include:\n")
	if p.Deployment != "" {
		b.WriteString("    deployments:\n")
		fmt.Fprintf(&b, "    - %s\n", scalar(p.Deployment))
	}
	b.WriteString("    jobs:\n")
	b.WriteString("    - name: kube-apiserver\n")
	b.WriteString("      release: kubo\n")
	return b.String()
}
