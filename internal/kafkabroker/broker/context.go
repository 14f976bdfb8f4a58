package broker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// platformContext is where a request comes from: the platform, the cluster
// and the namespace of the OSB context (Kubernetes profile; the Cloud
// Foundry profile's organization and space stand in for them), and the
// namespace's GUID, which only a provision carries (space_guid; svcat and
// v0.3 send the namespace's UID there).
//
// IDs alone do not prove ownership: a tenant who learns another tenant's
// instance ID (it is in Kafka user names and topic prefixes) can make the
// platform send requests with it. The platform puts the requester's real
// namespace into the context, so the context is what tells tenants apart.
type platformContext struct {
	Platform      string `json:"platform,omitempty"`
	ClusterID     string `json:"clusterID,omitempty"`
	Namespace     string `json:"namespace,omitempty"`
	NamespaceGUID string `json:"namespaceGUID,omitempty"`
}

// requestContext reads a request's context; spaceGUID is the provision's
// space_guid and empty for other requests. A request without a context
// has the zero value.
func requestContext(raw json.RawMessage, spaceGUID string) (platformContext, error) {
	var c struct {
		Platform  string `json:"platform"`
		ClusterID string `json:"clusterid"`
		Namespace string `json:"namespace"`
		// Cloud Foundry profile.
		OrganizationGUID string `json:"organization_guid"`
		SpaceGUID        string `json:"space_guid"`
	}
	if raw = bytes.TrimSpace(raw); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if raw[0] != '{' || json.Unmarshal(raw, &c) != nil {
			return platformContext{}, errors.New("context must be a JSON object whose platform, clusterid and namespace are strings")
		}
	}
	if f := emptyField(raw); f != "" {
		return platformContext{}, fmt.Errorf("context.%s is empty: the OSB profiles require a value when the field is sent", f)
	}
	pc := platformContext{Platform: c.Platform, ClusterID: c.ClusterID, Namespace: c.Namespace, NamespaceGUID: spaceGUID}
	if pc.ClusterID == "" {
		pc.ClusterID = c.OrganizationGUID
	}
	if pc.Namespace == "" {
		pc.Namespace = c.SpaceGUID
	}
	return pc, nil
}

// emptyField names a field of the context that is sent as "" although the
// Kubernetes or Cloud Foundry profile requires a value: an empty namespace
// or cluster ID would make every such request look like one tenant's.
func emptyField(raw json.RawMessage) string {
	var fields map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	for _, f := range []string{"platform", "clusterid", "namespace", "organization_guid", "space_guid"} {
		if v, ok := fields[f]; ok && string(v) == `""` {
			return f
		}
	}
	return ""
}

// sameAs compares everything both sides know. Binds and updates carry no
// namespace GUID, so it is compared only when both have it: it tells
// a namespace from a namespace of the same name made after the first was
// deleted.
func (c platformContext) sameAs(o platformContext) bool {
	if c.Platform != o.Platform || c.ClusterID != o.ClusterID || c.Namespace != o.Namespace {
		return false
	}
	return c.NamespaceGUID == "" || o.NamespaceGUID == "" || c.NamespaceGUID == o.NamespaceGUID
}

// none is true for a request without a context. Its namespace GUID alone
// (space_guid, which OSB requires in every provision) claims nothing.
func (c platformContext) none() bool {
	return c.Platform == "" && c.ClusterID == "" && c.Namespace == ""
}

type contextVerdict int

const (
	// contextMatches: the request comes from the record's context.
	contextMatches contextVerdict = iota
	// contextDiffers: it comes from another context; refuse.
	contextDiffers
	// contextUnknown: a repeated provision with a context, of a record
	// written before contexts were stored; refuse.
	contextUnknown
	// contextClaims: an update or bind with a context, of a record written
	// before contexts were stored; accept it and store its context.
	contextClaims
)

// checkContext decides whether a request from req may act on a record made
// from stored; stored is nil for records written by a broker that did not
// store contexts.
//
// Such a legacy record cannot say who owns it. A repeated provision is the
// one request a platform sends for an instance it has not provisioned
// itself, which makes it exactly what a takeover looks like, so it is
// refused. Binds are sent only for instances the platform has provisioned
// (svcat sends them for Ready instances only), so the first one with a
// context comes from the owner: its context is stored, and from then on the
// record is checked like any other (legacyBindRefused adds what evidence
// the record's bindings hold). A request without a context on a legacy
// record is treated as before: neither side makes a claim. Updates neither
// claim nor are refused (see Update).
//
// A bind's app GUID is not taken for the namespace GUID, although svcat
// and v0.3 send the namespace's UID there: OSB does not say so, and other
// platforms send an application's. A repeated bind compares it with the
// binding's all the same (appGUID), and a new bind needs an instance the
// platform provisioned, which a namespace made again under the same name
// cannot get (its provision is refused).
func checkContext(stored *platformContext, req platformContext, repeatedProvision bool) contextVerdict {
	switch {
	case stored != nil && stored.sameAs(req):
		return contextMatches
	case stored != nil:
		return contextDiffers
	case req.none():
		return contextMatches
	case repeatedProvision:
		return contextUnknown
	}
	return contextClaims
}

// legacyBindRefused decides whether a Kubernetes bind may claim a legacy
// instance. Kubernetes platforms (Service Catalog v0.3, svcat) send the
// namespace's UID as every bind's app GUID, so the instance's existing
// bindings name the owner's namespace: a bind from another namespace, which
// the platform was tricked into sending (a status written by hand, say),
// does not claim an instance whose bindings say otherwise. Other platforms
// send an application's GUID, which differs between a tenant's own apps, so
// there the bindings are no evidence.
func legacyBindRefused(req platformContext, appGUID string, existingAppGUIDs []string) bool {
	if req.Platform != "kubernetes" {
		return false
	}
	for _, g := range existingAppGUIDs {
		if g != "" && g != appGUID {
			return true
		}
	}
	return false
}

// The answers to a refused context name no stored value: not the other
// context, the parameters, the plan or the users. A requester from another
// context learns only that the ID is taken, which it knew. The context is
// checked before anything else is compared, so the answers are no oracle
// for the stored parameters either.

func instanceOtherContext(id string) error {
	return failure(http.StatusConflict, "instance-other-context",
		"instance %s exists for another platform context (cluster or namespace); only that context may provision, update or bind it. Use another instance ID", id)
}

func instanceContextUnknown(id string) error {
	return failure(http.StatusConflict, "instance-context-unknown",
		"instance %s exists, and its record (written by an older broker) does not say which platform context made it, so a repeated provision cannot be told from a takeover; use another instance ID", id)
}

func legacyBindConflict(id string) error {
	return failure(http.StatusConflict, "instance-context-unknown",
		"instance %s was made by an older broker, which did not record its platform context, and its bindings were made for another app GUID (namespace); only the namespace that owns it may bind it", id)
}

func instanceConflict(id string) error {
	return failure(http.StatusConflict, "instance-already-exists",
		"instance %s already exists with another service, plan or parameters; deprovision it first or use another ID", id)
}

func bindingConflict(id string) error {
	return failure(http.StatusConflict, "binding-already-exists",
		"binding %s already exists for another application, platform context or parameters; unbind it first or use another ID", id)
}

// wrongPlan answers a request whose service_id or plan_id are not the
// instance's, naming only what the request sent.
func wrongPlan(id, serviceID, planID string) error {
	return badRequest("service_id %q and plan_id %q are not those of instance %s", serviceID, planID, id)
}
