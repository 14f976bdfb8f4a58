package catalog

// Shareable reports whether the service's instances may be bound from
// namespaces other than the one that provisioned them: Cloud Foundry's
// service metadata "shareable": true, which platforms read from the
// catalog, and which the broker holds binds to as well.
func (c *Catalog) Shareable(serviceID string) bool {
	for i := range c.Services {
		s := &c.Services[i]
		if s.ID == serviceID {
			return s.Metadata != nil && s.Metadata.Shareable != nil && *s.Metadata.Shareable
		}
	}
	return false
}
