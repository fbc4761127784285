package bot

import "time"

// Location is the campus time zone the engine writes times in (TZ_CAMPUS):
// the console reads and shows a broadcast's dates in it too.
func (e *Engine) Location() *time.Location { return e.loc }
