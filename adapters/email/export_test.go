package email

import "crypto/x509"

// CheckCredentials exposes the decision whether credentials may be sent.
var CheckCredentials = checkCredentials

// SetRootCAs makes s trust a test server's certificate.
func SetRootCAs(s *Sender, roots *x509.CertPool) { s.rootCAs = roots }
