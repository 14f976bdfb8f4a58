package bindsecret

import "strings"

// Service describes where a binding's credentials come from, for the
// servicebinding.io Provisioned Service keys "type" and "provider".
type Service struct {
	// ClassTags are the class's tags from the broker's catalog, in order.
	ClassTags []string
	// ClassExternalName is the class's name in the broker's catalog.
	ClassExternalName string
	// BrokerName is the name of the (Cluster)ServiceBroker object.
	BrokerName string
}

// WithServiceBindingKeys returns a copy of credentials with the keys a
// servicebinding.io Provisioned Service needs, so workloads can consume the
// binding's Secret with any Service Binding implementation. Keys the broker
// sent are kept as they are. Otherwise:
//
//   - type is the first non-blank class tag, else the class's external
//     name, lower-cased because the well-known types ("kafka",
//     "postgresql") are; brokers put the technology first in tags (the
//     seed's cloudkarafka class has tags [kafka, cloudkarafka]);
//   - provider is the broker's name.
//
// Call it before Render: the binding's secretTransforms then have the last
// word and can rename, replace or remove these keys like any other.
func WithServiceBindingKeys(credentials map[string]any, svc Service) map[string]any {
	out := make(map[string]any, len(credentials)+2)
	for k, v := range credentials {
		out[k] = v
	}
	if _, ok := out["type"]; !ok {
		if t := serviceType(svc); t != "" {
			out["type"] = t
		}
	}
	if _, ok := out["provider"]; !ok && svc.BrokerName != "" {
		out["provider"] = svc.BrokerName
	}
	return out
}

func serviceType(svc Service) string {
	for _, tag := range svc.ClassTags {
		if t := strings.TrimSpace(tag); t != "" {
			return strings.ToLower(t)
		}
	}
	return strings.ToLower(strings.TrimSpace(svc.ClassExternalName))
}
