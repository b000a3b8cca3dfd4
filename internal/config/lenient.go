package config

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/BurntSushi/toml"
)

// ParseLenient reads a config the way Parse does but does not stop at the
// first kind of problem: it returns the config as far as it could be read
// (defaults, the file, the RAMPART_* overrides it could apply) together with
// every error Parse would have found, one per line of Parse's error, plus the
// validation errors Parse never reached. It is for `rampart doctor`, which must
// diagnose a config that Load refuses; nothing may serve from its result, whose
// InstanceURL and MediaOrigin are unset when url or media_url is invalid.
// A file that is not valid TOML leaves nothing to read: cfg is nil.
func ParseLenient(data []byte, environ []string) (*Config, []error) {
	cfg := Defaults()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&cfg)
	if err != nil {
		// Parse words the same decode error without quoting secret material.
		if _, perr := Parse(data, environ); perr != nil {
			return nil, flatten(perr)
		}
		return nil, []error{errors.New("the file is not valid TOML")}
	}
	var errs []error
	for _, k := range md.Undecoded() {
		errs = append(errs, fmt.Errorf("unknown key %q", k.String()))
	}
	if err := applyEnv(&cfg, environ); err != nil {
		errs = append(errs, flatten(err)...)
	}
	if err := cfg.validate(); err != nil {
		errs = append(errs, flatten(err)...)
	}
	return &cfg, errs
}
