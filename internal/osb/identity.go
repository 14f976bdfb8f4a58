package osb

import (
	"encoding/base64"
	"encoding/json"
	"errors"
)

// Platform is the platform name svcat sends in context and in the
// originating identity, per the OSB Kubernetes profile.
const Platform = "kubernetes"

// UserInfo is the Kubernetes user behind a request, as the OSB Kubernetes
// profile encodes it in X-Broker-API-Originating-Identity.
type UserInfo struct {
	Username string              `json:"username"`
	UID      string              `json:"uid"`
	Groups   []string            `json:"groups"`
	Extra    map[string][]string `json:"extra"`
}

func (u *UserInfo) headerValue() (string, error) {
	b, err := json.Marshal(u)
	if err != nil {
		return "", errors.New("osb: cannot encode originating identity")
	}
	return Platform + " " + base64.StdEncoding.EncodeToString(b), nil
}

// Context is the OSB "context" object for the Kubernetes platform.
type Context struct {
	Platform             string            `json:"platform"`
	Namespace            string            `json:"namespace,omitempty"`
	ClusterID            string            `json:"clusterid,omitempty"`
	InstanceName         string            `json:"instance_name,omitempty"`
	NamespaceAnnotations map[string]string `json:"namespace_annotations,omitempty"`
	InstanceAnnotations  map[string]string `json:"instance_annotations,omitempty"`
	// InstanceNamespace is sent with a bind from a namespace other than the
	// instance's (svcat's sharing across namespaces): Namespace is then the
	// consuming namespace and InstanceNamespace the owner's.
	InstanceNamespace string `json:"instance_namespace,omitempty"`
}
