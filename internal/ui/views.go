package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcat-io/svcat/api/v1beta1"
	"github.com/svcat-io/svcat/internal/cli/apiview"
	"github.com/svcat-io/svcat/internal/cli/output"
)

// Views are what templates show, built from API objects by pure functions.
// Broker-sent text goes through them untouched: html/template escapes it.

type classView struct {
	Name, Namespace, Scope, Broker string
	ExternalName, DisplayName      string
	Description, LongDescription   string
	Provider, DocsURL, SupportURL  string
	Tags                           []string
	Bindable, Removed              bool
	Metadata                       []kv
	Plans                          []planView
	// Search is what the filter matches, lower-cased.
	Search string
}

type planView struct {
	Name, ExternalName, DisplayName, Description string
	Free, Removed, HasSchema                     bool
	Bullets, Costs                               []string
	Metadata                                     []kv
}

type kv struct{ Key, Value string }

// metadata decodes a broker's metadata object; anything else is shown as
// it came.
func metadata(raw *runtime.RawExtension) map[string]any {
	if raw == nil || len(raw.Raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw.Raw, &m) != nil {
		return map[string]any{"metadata": string(raw.Raw)}
	}
	return m
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// otherMetadata lists the metadata keys the page does not show by name, so nothing
// a broker sends is hidden.
func otherMetadata(m map[string]any, shown ...string) []kv {
	var out []kv
	for k, v := range m {
		if contains(shown, k) {
			continue
		}
		out = append(out, kv{k, display(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func display(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonText(v)
}

func newClassView(c apiview.Class, plans []apiview.Plan) classView {
	md := metadata(c.Spec.ExternalMetadata)
	v := classView{
		Name: c.Name, Namespace: c.Namespace, Scope: string(c.Scope()), Broker: c.Broker,
		ExternalName: c.Spec.ExternalName, DisplayName: str(md, "displayName"),
		Description: c.Spec.Description, LongDescription: str(md, "longDescription"),
		Provider: str(md, "providerDisplayName"), DocsURL: str(md, "documentationUrl"), SupportURL: str(md, "supportUrl"),
		Tags: c.Spec.Tags, Bindable: c.Spec.Bindable, Removed: c.Removed,
		Metadata: otherMetadata(md, "displayName", "longDescription", "providerDisplayName", "documentationUrl", "supportUrl", "imageUrl"),
	}
	if v.LongDescription == v.Description {
		v.LongDescription = ""
	}
	words := []string{v.ExternalName, v.DisplayName, v.Description, v.LongDescription, v.Provider, v.Broker, strings.Join(v.Tags, " ")}
	for _, p := range plans {
		pv := newPlanView(p)
		v.Plans = append(v.Plans, pv)
		words = append(words, pv.ExternalName, pv.DisplayName, pv.Description)
	}
	v.Search = strings.ToLower(strings.Join(words, " "))
	return v
}

func newPlanView(p apiview.Plan) planView {
	md := metadata(p.Spec.ExternalMetadata)
	v := planView{Name: p.Name, ExternalName: p.Spec.ExternalName, DisplayName: str(md, "displayName"),
		Description: p.Spec.Description, Free: p.Spec.Free, Removed: p.Removed,
		HasSchema: hasRaw(p.Spec.InstanceCreateParameterSchema),
		Metadata:  otherMetadata(md, "displayName", "bullets", "costs")}
	if bullets, ok := md["bullets"].([]any); ok {
		for _, b := range bullets {
			v.Bullets = append(v.Bullets, display(b))
		}
	}
	if costs, ok := md["costs"].([]any); ok {
		for _, c := range costs {
			v.Costs = append(v.Costs, cost(c))
		}
	}
	return v
}

// cost renders OSB's {"amount": {"usd": 99}, "unit": "MONTHLY"}.
func cost(c any) string {
	m, ok := c.(map[string]any)
	if !ok {
		return display(c)
	}
	amounts, _ := m["amount"].(map[string]any)
	var parts []string
	for cur, a := range amounts {
		parts = append(parts, fmt.Sprintf("%s %s", display(a), strings.ToUpper(cur)))
	}
	sort.Strings(parts)
	s := strings.Join(parts, ", ")
	if unit := str(m, "unit"); unit != "" {
		s += " / " + strings.ToLower(unit)
	}
	return s
}

func hasRaw(r *runtime.RawExtension) bool {
	return r != nil && len(bytes.TrimSpace(r.Raw)) > 0 && string(bytes.TrimSpace(r.Raw)) != "null"
}

// matches is the server's side of the marketplace filter, for browsers
// without scripts: every word must occur.
func (v classView) matches(q string) bool {
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(v.Search, w) {
			return false
		}
	}
	return true
}

type conditionView struct {
	Type, Status, Reason, Message, Time string
}

// statusView is the one-word status and the sentence after it.
type statusView struct {
	Short, Full string
	// Class is the CSS class: ready, failed or progress.
	Class string
}

func newStatusView(c output.Condition, deleting bool) statusView {
	v := statusView{Short: c.Short(), Full: c.Full(), Class: "progress"}
	switch {
	case c.Type == "":
		v.Short, v.Full = "Pending", "no condition reported yet"
	case c.Status == v1beta1.ConditionTrue && c.Type == "Ready":
		v.Class = "ready"
	case c.Type == "Failed" && c.Status == v1beta1.ConditionTrue:
		v.Class = "failed"
	}
	if deleting && v.Class != "failed" {
		v.Class = "progress"
		if v.Short == "Ready" {
			v.Short = "Deleting"
		}
	}
	return v
}

func conditionViews(cs []output.Condition) []conditionView {
	out := make([]conditionView, 0, len(cs))
	for _, c := range cs {
		out = append(out, conditionView{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message,
			Time: c.Time.UTC().Format(time.RFC3339)})
	}
	return out
}

type instanceView struct {
	Name, Namespace, Class, Plan string
	Status                       statusView
	Deleting                     bool
	Conditions                   []conditionView
	LastOperation, Current       string
	AsyncOp                      bool
	DashboardURL                 string
	ExternalID                   string
	Parameters                   string
	ParametersFrom               []string
	Sent                         string
	Bindings                     []bindingView
	// UserProvided instances have no class or plan: their credentials
	// come from the Secret UserProvidedSecret.
	UserProvided       bool
	UserProvidedSecret string
	// Shares are the namespaces spec.sharedWith lists, with their state.
	Shares []apiview.Share
}

func newInstanceView(in *v1beta1.ServiceInstance, off *apiview.Offerings) instanceView {
	class, plan := off.InstanceClassPlan(in)
	v := instanceView{Name: in.Name, Namespace: in.Namespace, Class: class, Plan: plan,
		Deleting:   in.DeletionTimestamp != nil,
		Conditions: conditionViews(output.InstanceConditions(in.Status)),
		Current:    string(in.Status.CurrentOperation), AsyncOp: in.Status.AsyncOpInProgress,
		ExternalID: in.Spec.ExternalID,
		Parameters: paramsText(in.Spec.Parameters), ParametersFrom: fromText(in.Spec.ParametersFrom),
		Shares: apiview.Shares(in)}
	if up := in.Spec.UserProvided; up != nil {
		v.UserProvided, v.UserProvidedSecret = true, up.SecretRef.Name
	}
	v.Status = newStatusView(output.InstanceCondition(in.Status), v.Deleting)
	if in.Status.LastOperation != nil {
		v.LastOperation = *in.Status.LastOperation
	}
	if in.Status.DashboardURL != nil {
		v.DashboardURL = *in.Status.DashboardURL
	}
	if p := in.Status.ExternalProperties; p != nil {
		// The controller's copy: values from Secrets are "<redacted>".
		v.Sent = sentText(p.Parameters, v.Parameters)
	}
	return v
}

type bindingView struct {
	Name, Namespace, Instance, SecretName string
	Status                                statusView
	Deleting                              bool
	Conditions                            []conditionView
	LastOperation, Current                string
	Parameters                            string
	ParametersFrom                        []string
	Sent                                  string
	// SecretKeys are the keys of the credentials' Secret, never values.
	SecretKeys []string
	SecretNote string
	// InstanceNamespace is set when another namespace shares the instance.
	InstanceNamespace string
}

func newBindingView(b *v1beta1.ServiceBinding) bindingView {
	v := bindingView{Name: b.Name, Namespace: b.Namespace, Instance: b.Spec.InstanceRef.Name,
		SecretName: b.Spec.SecretName, Deleting: b.DeletionTimestamp != nil,
		Conditions: conditionViews(output.BindingConditions(b.Status)),
		Current:    string(b.Status.CurrentOperation),
		Parameters: paramsText(b.Spec.Parameters), ParametersFrom: fromText(b.Spec.ParametersFrom)}
	if v.SecretName == "" {
		v.SecretName = b.Name
	}
	if b.SharedInstance() {
		v.InstanceNamespace = b.InstanceNamespace()
	}
	v.Status = newStatusView(output.BindingCondition(b.Status), v.Deleting)
	if b.Status.LastOperation != nil {
		v.LastOperation = *b.Status.LastOperation
	}
	if p := b.Status.ExternalProperties; p != nil {
		v.Sent = sentText(p.Parameters, v.Parameters)
	}
	return v
}

// secretKeys lists a Secret's keys and sizes: what the page may show
// without a reveal.
func secretKeys(s *corev1.Secret) []string {
	out := make([]string, 0, len(s.Data))
	for k, v := range s.Data {
		out = append(out, fmt.Sprintf("%s (%d bytes)", k, len(v)))
	}
	sort.Strings(out)
	return out
}

// paramsText pretty-prints parameters for people: "<redacted>" rather
// than the escaped form the API stores.
func paramsText(r *runtime.RawExtension) string {
	if !hasRaw(r) {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(r.Raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return string(r.Raw)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(v) != nil {
		return string(r.Raw)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// sentText is what the broker received, when it differs from the spec
// (values from Secrets, or a spec changed since).
func sentText(sent *runtime.RawExtension, spec string) string {
	if t := paramsText(sent); t != spec {
		return t
	}
	return ""
}

func fromText(from []v1beta1.ParametersFromSource) []string {
	var out []string
	for _, f := range from {
		if f.SecretKeyRef != nil {
			out = append(out, fmt.Sprintf("Secret %s, key %s", f.SecretKeyRef.Name, f.SecretKeyRef.Key))
		}
	}
	return out
}

type eventView struct {
	Type, Reason, Message, Time string
	Count                       int32
}

func eventViews(events []corev1.Event) []eventView {
	sort.SliceStable(events, func(i, j int) bool { return eventTime(events[i]).After(eventTime(events[j])) })
	const maxEvents = 20
	if len(events) > maxEvents {
		events = events[:maxEvents]
	}
	out := make([]eventView, 0, len(events))
	for _, e := range events {
		out = append(out, eventView{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count,
			Time: eventTime(e).UTC().Format(time.RFC3339)})
	}
	return out
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
