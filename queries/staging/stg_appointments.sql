-- Appointments with canonical clinicians and statuses. Names and statuses
-- are resolved once per distinct spelling, not once per row.
with source as (
    select * from raw_appointments
),
clinician_spellings as (
    select distinct clinician as raw_clinician from source
),
clinicians as (
    select s.raw_clinician, n.clinician
    from clinician_spellings s
    left join stg_clinician_names n on n.name_key = name_key(s.raw_clinician)
),
statuses as (
    select raw_status,
        case
            when k in ('attended', 'arrived', 'show', 'showed', 'kept', 'completed', 'complete', 'checkedin',
                       'checkedout', 'seen', 'present', 'billed', 'done', 'came') then 'attended'
            when k in ('noshow', 'ns', 'dna', 'didnotattend', 'didnotshow', 'missed', 'failed', 'absent') then 'no-show'
            when k like 'late%canc%' or k in ('lc', 'latecx') then 'late-cancelled'
            when k like '%cancel%' or k in ('cx', 'canceled', 'rescheduled', 'deleted') then 'cancelled'
            when k in ('scheduled', 'booked', 'confirmed', 'pending', 'unconfirmed', 'tentative', 'reminded') then 'scheduled'
            else 'other'
        end as status
    from (
        select distinct status as raw_status, regexp_replace(lower(coalesce(status, '')), '[^a-z]', '', 'g') as k
        from source
    )
),
renamed as (
    select
        a.appointment_id,
        a.client_key,
        coalesce(c.clinician, trim(a.clinician)) as clinician,
        c.clinician is not null              as clinician_resolved,
        a.appt_date,
        a.appt_time,
        s.status,
        a.service,
        a.referral_source,
        clean_npi(a.referrer_npi)            as referrer_npi,
        a.referred_to,
        a.has_referred_to
    from source a
    left join clinicians c on coalesce(c.raw_clinician, '') = coalesce(a.clinician, '')
    left join statuses s on coalesce(s.raw_status, '') = coalesce(a.status, '')
)
select * from renamed
