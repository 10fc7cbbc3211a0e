-- point_persons: the point person of every referrer (not channels) at every month end
-- from its first referral to the report month. Intermediate: referrals and
-- referrer_months carry the result.
--
-- At month m the point person is
--   1. the directory's point person (stg_referrers.directory_point_person), while that
--      clinician is still on the roster at m;
--   2. else the assigned clinician of the referrer's earliest referral (up to m's end)
--      whose assigned clinician is still on the roster at m: a point person who leaves
--      the practice hands the relationship to the next clinician who took its referrals;
--   3. else (everyone who took its referrals has left) the directory's point person or
--      the assigned clinician of its first referral, so an active referrer always has one.
-- "Still on the roster at m": stg_clinicians.end_date is NULL or on/after m's first day.
-- A clinician the roster does not list has no end date we know of and counts as still
-- here. Ties between referrals on the same day go to the clinician's name, so the
-- answer never depends on row order.
with params as (
    select getvariable('report_month')::DATE as report_month
),

referrals_to_date as (
    select f.referrer, f.referral_date, f.referral_month, f.assigned_clinician
    from referral_facts f, params p
    where f.source_kind = 'referrer'
      and f.referral_date <= last_day(p.report_month)
),

months as (
    select
        referrer,
        unnest(generate_series(min(referral_month), any_value(p.report_month), interval 1 month))::DATE as month
    from referrals_to_date, params p
    group by referrer
),

-- The last month each clinician is on the roster (NULL = still here).
roster as (
    select clinician, max(date_trunc('month', end_date))::DATE as last_month, bool_or(end_date is null) as open_ended
    from stg_clinicians
    group by clinician
),

candidates as (
    select
        r.referrer,
        r.assigned_clinician as clinician,
        min(r.referral_date) as first_date,
        any_value(case when ro.open_ended then null else ro.last_month end) as last_month
    from referrals_to_date r
    left join roster ro on ro.clinician = r.assigned_clinician
    group by r.referrer, r.assigned_clinician
),

earliest_on_roster as (
    select m.referrer, m.month, arg_min(c.clinician, {'d': c.first_date, 'c': c.clinician}) as clinician
    from months m
    join candidates c
        on c.referrer = m.referrer
        and c.first_date <= last_day(m.month)
        and (c.last_month is null or c.last_month >= m.month)
    group by m.referrer, m.month
),

first_ever as (
    select referrer, arg_min(clinician, {'d': first_date, 'c': clinician}) as clinician
    from candidates
    group by referrer
),

directory as (
    select
        d.referrer,
        d.directory_point_person as clinician,
        case when ro.open_ended then null else ro.last_month end as last_month
    from stg_referrers d
    left join roster ro on ro.clinician = d.directory_point_person
    where nullif(trim(d.directory_point_person), '') is not null
)

select
    m.referrer,
    m.month,
    case
        when d.clinician is not null and (d.last_month is null or d.last_month >= m.month) then d.clinician
        when e.clinician is not null then e.clinician
        else coalesce(d.clinician, fe.clinician)
    end as point_person,
    case
        when d.clinician is not null and (d.last_month is null or d.last_month >= m.month) then 'directory'
        when e.clinician is not null and e.clinician = fe.clinician then 'first referral'
        when e.clinician is not null then 'next referral on the roster'
        else 'nobody on the roster'
    end as point_person_source
from months m
left join directory d on d.referrer = m.referrer
left join earliest_on_roster e on e.referrer = m.referrer and e.month = m.month
left join first_ever fe on fe.referrer = m.referrer
