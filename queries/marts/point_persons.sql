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

-- A number per referrer: the month grid (a million rows at 10M exported rows) is
-- joined and grouped on it rather than on the name.
referrer_ids as (
    select referrer, row_number() over (order by referrer) as referrer_id
    from (select distinct referrer from referrals_to_date)
),

months as (
    select
        i.referrer_id,
        any_value(r.referrer) as referrer,
        unnest(generate_series(min(r.referral_month), any_value(p.report_month), interval 1 month))::DATE as month
    from referrals_to_date r
    join referrer_ids i using (referrer), params p
    group by i.referrer_id
),

-- The last month each clinician is on the roster (NULL = still here).
roster as (
    select clinician, max(date_trunc('month', end_date))::DATE as last_month, bool_or(end_date is null) as open_ended
    from stg_clinicians
    group by clinician
),

-- Each clinician who took the referrer's referrals, ranked by their first referral
-- (ties to the name): the earliest on the roster is the smallest rank, a number,
-- where a struct of date and name was compared across the grid (1.8 s at 10M rows).
candidates as (
    select
        *,
        row_number() over (partition by referrer_id order by {'d': first_date, 'c': clinician}) as rank
    from (
        select
            i.referrer_id,
            r.assigned_clinician as clinician,
            min(r.referral_date) as first_date,
            any_value(case when ro.open_ended then null else ro.last_month end) as last_month
        from referrals_to_date r
        join referrer_ids i using (referrer)
        left join roster ro on ro.clinician = r.assigned_clinician
        group by i.referrer_id, r.assigned_clinician
    )
),

earliest_on_roster as (
    select e.referrer_id, e.month, c.clinician
    from (
        select m.referrer_id, m.month, min(c.rank) as rank
        from months m
        join candidates c
            on c.referrer_id = m.referrer_id
            and c.first_date <= last_day(m.month)
            and (c.last_month is null or c.last_month >= m.month)
        group by m.referrer_id, m.month
    ) e
    join candidates c on c.referrer_id = e.referrer_id and c.rank = e.rank
),

first_ever as (
    select referrer_id, clinician from candidates where rank = 1
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
left join earliest_on_roster e on e.referrer_id = m.referrer_id and e.month = m.month
left join first_ever fe on fe.referrer_id = m.referrer_id
