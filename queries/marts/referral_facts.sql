-- referral_facts: one row per referred client, everything about the referral except
-- the point person (which depends on the referrer's other referrals; see
-- point_persons and referrals). Intermediate: reports read `referrals`.
--
-- Referral = the client's first appointment, whatever its status; ties by date, time
-- of day (absent or unreadable times last), appointment id. Clients seen only in
-- billing count too, dated by their first date of service (origin 'billing').
-- referral_order is the referral's day and time as one number (appointment_order; a
-- billing-only client's day with no time, so last on it).
-- Referrer = the earliest referral source (name or NPI) on the client's appointments
-- that names one (not blank, nor 'N/A', 'Unknown': no_source_name), else
-- the referring provider (name/NPI) on the client's earliest claim that has one;
-- either is resolved through stg_referrer_spellings (raw name + NPI).
-- Assigned clinician = first attended appointment's, else first appointment's, else
-- the first appointment's that names a clinician (an intake booked before one was
-- assigned), else the first claim's rendering clinician (billing-only clients, or
-- appointments that never name one).
-- Requested = the first appointment's referred-to value, resolved through
-- stg_clinician_names by its name key (without a roster, through the clinicians the
-- exports name); anything that is no clinician (blank, "any",
-- "the practice", a typo) means the practice. Only known when that export had the
-- column (has_referred_to); never for billing-only clients.
-- pp_target is the clinician compared with the point person: the requested one
-- when a clinician was requested, else the assigned one.
-- The per-client facts come from client_appointments and client_claims (names as
-- exported), resolved here through stg_clinician_spellings against the night's roster.
with scheduled as (
    select
        a.client_key,
        a.referral_date,
        f.clinician as first_clinician,
        a.referred_to,
        a.has_referred_to,
        att.clinician as first_attended_clinician,
        nm.clinician as named_clinician,
        -- A source typed to say there is none ('N/A', 'Unknown') is none, as a blank
        -- is (client_appointments skips it): the claim's referring provider is taken.
        a.source_npi is not null or a.source_name is not null as has_source,
        a.source_name,
        a.source_npi,
        a.attended,
        a.first_ord,
        -- Whether any of the client's appointments names a clinician, as exported
        -- (the data check referrals_have_one_assigned_clinician).
        nullif(trim(a.first_clinician), '') is not null or nullif(trim(a.named_clinician), '') is not null
            or nullif(trim(a.first_attended_clinician), '') is not null as names_clinician
    from client_appointments a
    left join stg_clinician_spellings f
        on f.export = 'scheduling' and f.provider is not distinct from a.first_clinician and f.provider_npi is null
    left join stg_clinician_spellings att
        on att.export = 'scheduling' and att.provider = a.first_attended_clinician and att.provider_npi is null
    left join stg_clinician_spellings nm
        on nm.export = 'scheduling' and nm.provider = a.named_clinician and nm.provider_npi is null
),

billed as (
    select
        b.client_key,
        b.first_service,
        p.clinician as first_clinician,
        b.source_name,
        b.source_npi,
        b.payer,
        b.billed,
        b.paid,
        nullif(trim(b.first_provider), '') is not null as names_clinician
    from client_claims b
    left join stg_clinician_spellings p
        on p.export = 'billing' and p.provider is not distinct from b.first_provider
        and p.provider_npi is not distinct from b.first_provider_npi
),

clients as (
    select
        coalesce(s.client_key, b.client_key) as client_key,
        coalesce(s.referral_date, b.first_service) as referral_date,
        -- The referral's place in time (its day and time of day, appointment_order):
        -- which of a referrer's referrals of one day came first (point_persons).
        coalesce(s.first_ord, appointment_order(b.first_service, NULL::TIME)) as referral_order,
        case when s.client_key is null then 'billing' else 'scheduling' end as origin,
        -- The source as two plain columns, the schedule's when it names one (as were the
        -- first appointment's fields): structs built per client and taken apart again
        -- made the model 0.90 s against 0.86 s at 10M exported rows (its build and commit).
        case when s.has_source then s.source_name else b.source_name end as source_name,
        case when s.has_source then s.source_npi else b.source_npi end as source_npi,
        case
            when s.client_key is null then b.first_clinician
            else coalesce(nullif(trim(s.first_attended_clinician), ''), nullif(trim(s.first_clinician), ''),
                          nullif(trim(s.named_clinician), ''), b.first_clinician)
        end as assigned_clinician,
        coalesce(s.has_referred_to, false) as requested_known,
        s.referred_to,
        coalesce(s.attended, false) or b.client_key is not null as intake_attended,
        b.payer,
        coalesce(b.billed, 0)::DECIMAL(12,2) as billed,
        coalesce(b.paid, 0)::DECIMAL(12,2) as paid,
        coalesce(s.names_clinician, false) or coalesce(b.names_clinician, false) as clinician_named
    from scheduled s
    full join billed b on b.client_key = s.client_key
),

-- One row per spelling, so a duplicated spelling can never duplicate a client.
spellings as (
    select nullif(raw_name, '') as raw_name, npi, min(referrer) as referrer, bool_or(is_channel) as is_channel
    from stg_referrer_spellings
    group by all
),

-- The names a request can name: the roster's; without a roster, the clinicians the
-- exports name (otherwise every request would be for the practice).
request_names as (
    select name_key, clinician from stg_clinician_names where clinician is not null
    union all
    -- A key two of them share names neither. The test is a CASE, so that with a roster
    -- no name is keyed: as a filter beside the roster's test, DuckDB keyed every
    -- spelling before it.
    select name_key(clinician), min(clinician) from stg_clinician_spellings
    where case when not exists (select 1 from stg_clinician_names) then name_key(clinician) is not null else false end
    group by 1
    having count(distinct clinician) = 1
),

-- Requests are resolved once per distinct spelling, not once per client. They are
-- read from clients, not from client_appointments: read twice, clients is
-- materialized, and the model runs faster so (at 10M exported rows, its build and
-- commit took 1.13 s reading client_appointments here, 0.85 s as it is).
requests as (
    select r.referred_to, min(n.clinician) as clinician
    -- Keyed in a projection, not in the join's condition: DuckDB shares the macro's
    -- repeated parts only in a projection (the resolving took 0.12 s against 0.04 s).
    from (
        select referred_to, name_key(referred_to) as name_key
        from (select distinct referred_to from clients where requested_known and referred_to is not null)
    ) r
    join request_names n on n.name_key = r.name_key
    group by r.referred_to
),

resolved as (
    select
        c.*,
        sp.referrer,
        sp.is_channel,
        case when c.requested_known then rq.clinician end as requested_clinician
    from clients c
    left join spellings sp
        on coalesce(sp.raw_name, '') = coalesce(c.source_name, '')
        and coalesce(sp.npi, '') = coalesce(c.source_npi, '')
    left join requests rq on rq.referred_to = c.referred_to
)

select
    client_key,
    referral_date,
    date_trunc('month', referral_date)::DATE as referral_month,
    origin,
    case
        when referrer is null then 'unknown'
        when is_channel then 'channel'
        else 'referrer'
    end as source_kind,
    referrer,
    requested_clinician,
    requested_known and requested_clinician is null as requested_practice,
    requested_known,
    assigned_clinician,
    case
        when requested_known and requested_clinician is not null then requested_clinician
        else assigned_clinician
    end as pp_target,
    intake_attended,
    payer,
    billed,
    paid,
    clinician_named,
    referral_order
from resolved
