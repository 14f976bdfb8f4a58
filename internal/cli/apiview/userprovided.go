package apiview

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/svcat-io/svcat/api/v1beta1"
)

// UserProvidedClass is what svcat shows in the class column of a
// user-provided instance (spec.userProvided), which has no class or plan.
// The parentheses keep it apart from class names: OSB asks brokers for
// CLI-friendly names, which have none.
const UserProvidedClass = "(user-provided)"

// CredentialsSecretName is the Secret made for the literal credentials
// of user-provided instance name.
func CredentialsSecretName(name string) string { return name + "-credentials" }

// ParseCredentials turns KEY=VALUE pairs into Secret data: keys valid as
// Secret keys, each once, the whole within what a user-provided instance
// takes. Errors start with label (the flag or field the pairs came from)
// and name the key, never a value: a pair without "=" is counted, not
// quoted, since it may be a value alone. Pure.
func ParseCredentials(label string, pairs []string) (map[string][]byte, error) {
	data := make(map[string][]byte, len(pairs))
	size := 0
	for i, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("%s number %d has no \"=\": want KEY=VALUE (it is not shown, since it may be a value)", label, i+1)
		}
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			return nil, fmt.Errorf("%s %q: not valid as a Secret key: %s", label, k, strings.Join(errs, "; "))
		}
		if _, dup := data[k]; dup {
			return nil, fmt.Errorf("%s %q is given twice: each key holds one value", label, k)
		}
		data[k] = []byte(v)
		size += len(k) + len(v)
	}
	if size > v1beta1.MaxUserProvidedSecretBytes {
		return nil, fmt.Errorf("the %s values take %d bytes, more than the %d a user-provided instance takes", label, size, v1beta1.MaxUserProvidedSecretBytes)
	}
	return data, nil
}

// CreateUserProvided creates the user-provided instance ns/name. Its
// credentials are the Secret fromSecret, which must exist; or, when
// fromSecret is empty, literals, written into the new Secret
// CredentialsSecretName(name), owned by the instance so that it goes with
// it. Nothing is created when the Secret is missing or the new one's name
// is taken, and nothing is left half made.
func (c *Client) CreateUserProvided(ctx context.Context, ns, name, fromSecret string, literals map[string][]byte) (*v1beta1.ServiceInstance, error) {
	secret := fromSecret
	if secret == "" {
		secret = CredentialsSecretName(name)
		if _, err := c.Secret(ctx, ns, secret); err == nil {
			return nil, &RequestError{fmt.Sprintf("a Secret %q already exists in namespace %q: create the instance from that Secret to take its keys (svcat create user-provided %s --from-secret %s), or delete it first", secret, ns, name, secret)}
		} else if !isNotFound(err) {
			return nil, err
		}
	} else {
		if errs := validation.IsDNS1123Subdomain(secret); len(errs) > 0 {
			return nil, &RequestError{fmt.Sprintf("the Secret name %q is not valid: %s", secret, strings.Join(errs, "; "))}
		}
		if _, err := c.Secret(ctx, ns, secret); isNotFound(err) {
			return nil, &RequestError{fmt.Sprintf("no Secret %q in namespace %q: create it first (kubectl create secret generic %s --from-literal=KEY=VALUE), or give the credentials as KEY=VALUE pairs", secret, ns, secret)}
		} else if err != nil {
			return nil, err
		}
	}
	in := &v1beta1.ServiceInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1beta1.ServiceInstanceSpec{UserProvided: &v1beta1.UserProvidedCredentials{
			SecretRef: v1beta1.UserProvidedSecretReference{Name: secret}}}}
	in.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("ServiceInstance"))
	if err := c.Create(ctx, in, ResServiceInstances); err != nil {
		return nil, err
	}
	if fromSecret != "" {
		return in, nil
	}
	if err := c.Create(ctx, literalSecret(in, secret, literals), ResSecrets); err != nil {
		if derr := c.C.Delete(ctx, in); derr != nil {
			return nil, fmt.Errorf("%w; the instance %q was created but could not be deleted again: %v", err, name, derr)
		}
		return nil, err
	}
	return in, nil
}

func isNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// literalSecret holds literal credentials, owned by the instance so that
// the garbage collector deletes it with the instance.
func literalSecret(in *v1beta1.ServiceInstance, name string, data map[string][]byte) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: in.Namespace, Name: name,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: v1beta1.GroupVersion.String(), Kind: "ServiceInstance",
			Name: in.Name, UID: in.UID, Controller: ptr.To(true)}}},
		Type: corev1.SecretTypeOpaque, Data: data}
	s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return s
}
