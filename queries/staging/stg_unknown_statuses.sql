-- The appointment status spellings no class takes: appointment_status calls them
-- 'other', and the configuration ([scheduling.statuses], the variable status_words)
-- does not say so itself. Such an appointment is neither attended nor booked: a client
-- whose appointments all carry one has no attended intake, the first appointment's
-- clinician rather than the first attended one's, and no intake still to come. The run
-- warns of them, and the Data quality sheet lists them. A blank status is no status
-- (booked, as client_bookings has it), never listed.
--
-- From status_counts, the appointments per spelling that the loader keeps as rows come
-- and are replaced: one row per spelling, classified once each, never a pass over the
-- appointments.
select status, n as appointments
from status_counts
where n > 0
  and nullif(trim(status), '') is not null
  and configured_status(status) is null
  and appointment_status(status) = 'other'
