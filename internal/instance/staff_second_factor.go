package instance

import (
	"context"
	"strings"
)

// warnStaffWithoutSecondFactor logs, while
// security.require_staff_second_factor is on, one WARN naming every admin
// and moderator account without a second factor: the accounts an attacker
// wants most, guarded by a password alone. A failure to check is logged too;
// it does not stop the server.
func (i *Instance) warnStaffWithoutSecondFactor(ctx context.Context) {
	if !i.cfg.Security.RequireStaffSecondFactor {
		return
	}
	staff, err := i.factors.StaffWithout(ctx)
	if err != nil {
		i.log.Warn("checking staff second factors", "err", err)
		return
	}
	if len(staff) == 0 {
		return
	}
	names := make([]string, len(staff))
	for n, m := range staff {
		names[n] = m.Username + " (" + m.Role + ")"
	}
	i.log.Warn("staff without a second factor: they will be asked to add one at sign-in (security.require_staff_second_factor)",
		"accounts", strings.Join(names, ", "), "count", len(staff))
}
