package v1beta1

// MaxUserProvidedSecretBytes bounds the keys and values of a user-provided
// instance's Secret (spec.userProvided). The API server's own bound is a
// Secret of 1 MiB; half of it leaves each binding's Secret, which holds a
// copy, room for the servicebinding.io keys and for what its
// secretTransforms add, and keeps what the controller reads per binding
// small. svcat create user-provided checks literal values against it too.
const MaxUserProvidedSecretBytes = 512 << 10

// UserProvidedServiceType is the servicebinding.io "type" of a binding to a
// user-provided instance whose Secret has no "type" key of its own (Cloud
// Foundry's label for these services).
const UserProvidedServiceType = "user-provided"
