package brokerop

import (
	"errors"
	"fmt"

	"github.com/svcat-io/svcat/internal/brokertext"
	"github.com/svcat-io/svcat/internal/controller/brokerclient"
	"github.com/svcat-io/svcat/internal/controller/brokerurl"
	"github.com/svcat-io/svcat/internal/osb"
)

// Describe turns an error from talking to a broker into a
// sentence that says what to fix. The OSB client never puts credentials in
// its errors, and cleans what the broker said; the sentence is cleaned as
// a whole too, because transport errors quote what the network answered
// (a certificate's names, say).
func Describe(url string, err error) string {
	return brokertext.Clean(describe(url, err), brokertext.MaxMessage)
}

func describe(url string, err error) string {
	var ce *brokerclient.CredentialsError
	var ue *brokerurl.Error
	switch {
	case errors.As(err, &ce):
		return ce.Error()
	case errors.As(err, &ue):
		return ue.Error()
	case osb.IsUnauthorized(err):
		return "the broker rejected our credentials (HTTP 401): check the username and password, or token, in the Secret named by spec.authInfo"
	case osb.IsTLSError(err):
		return fmt.Sprintf("TLS verification of %s failed: %v; set spec.caBundle to the CA that signed the broker's certificate", url, err)
	case osb.IsTimeout(err):
		return fmt.Sprintf("the broker at %s did not answer in time: %v", url, err)
	case osb.IsUnreachable(err):
		return fmt.Sprintf("cannot reach the broker at %s: %v; check spec.url and that the broker is running", url, err)
	case osb.IsPreconditionFailed(err):
		return fmt.Sprintf("the broker does not support OSB API version %s (HTTP 412): %v", osb.APIVersion, err)
	}
	return err.Error()
}
