package config

import "testing"

// security.require_staff_second_factor is on in prod and off in dev unless
// the file or the environment says otherwise, either way.
func TestRequireStaffSecondFactorDefaultsPerEnv(t *testing.T) {
	const key = "RAMPART_SECURITY_REQUIRE_STAFF_SECOND_FACTOR"
	for _, c := range []struct {
		name    string
		text    string
		environ []string
		want    bool
	}{
		{"prod", valid(), nil, true},
		{"dev", valid(`env = "dev"`), nil, false},
		{"dev from the environment", valid(), []string{"RAMPART_ENV=dev"}, false},
		{"dev, on in the file", valid(`env = "dev"`, "[security]", "require_staff_second_factor = true"), nil, true},
		{"dev, on in the environment", valid(`env = "dev"`), []string{key + "=true"}, true},
		{"prod, off in the file", valid("[security]", "require_staff_second_factor = false"), nil, false},
	} {
		cfg, err := Parse([]byte(c.text), c.environ)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if cfg.Security.RequireStaffSecondFactor != c.want {
			t.Errorf("%s: %v, want %v", c.name, cfg.Security.RequireStaffSecondFactor, c.want)
		}
	}
}
