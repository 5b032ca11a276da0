package authz

import (
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// removedBuiltins are taken out of the capabilities the policies compile
// against: network access, runtime/environment introspection, parsing of
// arbitrary Rego, tracing, and everything whose result depends on the clock,
// randomness or the outside world, so that a decision depends on its input
// alone. All net.* built-ins are removed as well (see Capabilities).
var removedBuiltins = map[string]bool{
	"http.send":            true, // network
	"opa.runtime":          true, // environment and config
	"rego.parse_module":    true, // arbitrary code inspection
	"trace":                true, // tracing
	"time.now_ns":          true, // clock
	"rand.intn":            true, // randomness
	"uuid.rfc4122":         true, // randomness
	"io.jwt.decode_verify": true, // reads the clock
	"crypto.x509.parse_and_verify_certificates":              true, // reads the clock
	"crypto.x509.parse_and_verify_certificates_with_options": true, // reads the clock
	"json.verify_schema":                                     true, // may resolve remote $refs
	"json.match_schema":                                      true, // may resolve remote $refs
	"providers.aws.sign_req":                                 true, // reads the clock, secrets
}

// Capabilities returns the restricted capability set the policies are
// compiled with: the built-ins of this OPA version minus network, runtime,
// environment and non-deterministic ones, and no allowed network hosts.
// It returns a fresh copy on every call.
func Capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0]
	for _, b := range caps.Builtins {
		if removedBuiltins[b.Name] || strings.HasPrefix(b.Name, "net.") || b.Nondeterministic {
			continue
		}
		kept = append(kept, b)
	}
	caps.Builtins = kept
	caps.AllowNet = []string{} // empty (not nil): no host may be reached
	return caps
}
