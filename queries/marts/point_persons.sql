-- point_persons: the point person of every referrer (not channels) at every month end
-- from its first referral to the report month. Intermediate: referrals and
-- referrer_months carry the result.
--
-- The point person is DOMAIN.md's: the clinician the referrer directory names for the
-- referrer (stg_referrers.directory_point_person), else the assigned clinician of the
-- referrer's first referral that has one (a client no appointment or claim names a
-- clinician for yet has none; a referrer with only such clients has no point person
-- yet: NULL, 'no clinician yet'). A point person who leaves the practice (the roster's end
-- date) hands the relationship on to the clinician who took the referrer's first
-- referral after that date, who may leave in turn. Until such a referral comes, the one
-- who left stays the point person: nobody else has taken the referrer's clients yet, so
-- the referrals in the window still measure the relationship with them.
--
-- "Took the first referral after that date": the referral's assigned clinician, among
-- referrals whose clinician had not left by the referral's day. "First" is by day, then
-- time of day (referral_order: of two referrals on one day, the earlier appointment);
-- a tie there goes to the clinician's name, so the answer never depends on row order.
-- The referrer's first referral is found the same way. A clinician the roster
-- does not list has no end date we know of and never leaves. The point person at a
-- month is the one whose referral (or the start, for the first) came by its last day.
--
-- point_person_source says why: 'directory', 'first referral', 'handed over' (took the
-- first referral after the point person before them left), or 'left the practice' (the
-- point person has left and no referral has come since), or 'no clinician yet'.
with recursive params as (
    select getvariable('report_month')::DATE as report_month
),

referrals_to_date as (
    select f.referrer, f.referral_date, f.referral_order, f.assigned_clinician as clinician
    from referral_facts f, params p
    where f.source_kind = 'referrer'
      and f.referral_date <= last_day(p.report_month)
),

-- A number per referrer: the month grid (a million rows at 10M exported rows) and the
-- windows below are keyed on it rather than on the name.
referrer_ids as (
    select referrer, row_number() over (order by referrer) as referrer_id
    from (select distinct referrer from referrals_to_date)
),

-- The day each clinician left: NULL while any roster row of theirs is open-ended.
departures as (
    select clinician, case when bool_or(end_date is null) then null else max(end_date) end as left_on
    from stg_clinicians
    group by clinician
),

taken as (
    select i.referrer_id, r.referral_date, r.referral_order, r.clinician, d.left_on
    from referrals_to_date r
    join referrer_ids i using (referrer)
    left join departures d on d.clinician = r.clinician
),

first_referral as (
    select
        referrer_id,
        min(referral_date) as first_date,
        -- The first referral that has a clinician: a client no appointment or claim
        -- names one for yet has none to give.
        arg_min(clinician, {'o': referral_order, 'c': clinician}) filter (where clinician is not null) as clinician
    from taken
    group by referrer_id
),

start as (
    select
        f.referrer_id,
        coalesce(d.clinician, f.clinician) as clinician,
        case
            when d.clinician is not null then 'directory'
            when f.clinician is not null then 'first referral'
            else 'no clinician yet'
        end as source,
        f.first_date as since
    from first_referral f
    join referrer_ids i using (referrer_id)
    left join (
        select referrer, trim(directory_point_person) as clinician
        from stg_referrers
        where nullif(trim(directory_point_person), '') is not null
    ) d on d.referrer = i.referrer
),

-- For every clinician of a referrer's who left (a possible point person: the start, or
-- anyone who took a referral), the first referral after the day they left that a
-- clinician took who had not left by its day; by day and time of day, then the
-- clinician's name. A join on the referrer with the days as a further condition (a hash join:
-- the models are built in one transaction, where fresh tables have no statistics and
-- DuckDB would run a range join alone as a nested loop), then the smallest (day and
-- time, name) per leaver: at 10M exported rows 0.27 s, where a window along every referral
-- of every referrer, with the days clinicians left placed among them, took 0.48 s,
-- for the same 1,044,137 rows.
leavers as (
    select distinct s.referrer_id, s.clinician, d.left_on
    from start s
    join departures d on d.clinician = s.clinician
    where d.left_on is not null
    union
    select referrer_id, clinician, left_on
    from taken
    where left_on is not null
),

handovers as (
    select
        l.referrer_id,
        l.clinician as leaver,
        min(t.referral_date) as next_date,
        arg_min(t.clinician, {'o': t.referral_order, 'c': t.clinician}) as next_clinician
    from leavers l
    join taken t
        on t.referrer_id = l.referrer_id
        and t.referral_date > l.left_on
        and t.clinician is not null
        and (t.left_on is null or t.left_on >= t.referral_date)
    group by l.referrer_id, l.clinician, l.left_on
),

chain as (
    select referrer_id, clinician, source, since, 0 as step
    from start
    union all
    select c.referrer_id, h.next_clinician, 'handed over', h.next_date, c.step + 1
    from chain c
    join handovers h on h.referrer_id = c.referrer_id and h.leaver = c.clinician
),

-- Each point person holds the months from the one their referral (or the referrer's
-- first) came in to the month before the next takes over, or to the report month.
spans as (
    select
        c.referrer_id,
        c.clinician,
        c.source,
        date_trunc('month', c.since)::DATE as from_month,
        coalesce(
            date_trunc('month', lead(c.since) over (partition by c.referrer_id order by c.step))::DATE - interval 1 month,
            p.report_month
        )::DATE as to_month
    from chain c, params p
),

months as (
    select
        referrer_id,
        clinician,
        source,
        unnest(generate_series(from_month, to_month, interval 1 month))::DATE as month
    from spans
)

select
    i.referrer,
    m.month,
    m.clinician as point_person,
    case
        when d.left_on < m.month then 'left the practice'
        else m.source
    end as point_person_source
from months m
join referrer_ids i using (referrer_id)
left join departures d on d.clinician = m.clinician
