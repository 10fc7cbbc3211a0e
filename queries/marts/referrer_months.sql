-- referrer_months: the spread measure and the stage of every referrer (channels never
-- get one) at every month end from its first referral to the report month.
--
-- The window at month m is the trailing window_months complete months ending on m's
-- last day. Counts are summed over a dense referrer x month grid with window
-- functions; per-clinician counts are carried as changes (see clinician_changes), so
-- the cost grows with the referrals and the grid, never with their product.
--   point_person_share = referrals to the point person at m (requested clinician when
--                        one was requested, else assigned) / N
--   practice_share     = referrals addressed to the practice / referrals whose request
--                        is known; NULL when none is known (no referred-to field)
--   coc                = (sum n_c^2 - N) / (N (N - 1)) over assigned clinicians, N >= 2
--   effective_clinicians = N (N - 1) / (sum n_c^2 - N) = 1 / coc; NULL when coc is 0
--                        (infinitely many: it passes any minimum) or NULL
-- Stage 3 when practice_share >= stage3_practice_share, or, when practice_share is
-- NULL, N >= stage3_min_referrals, effective clinicians >= stage3_min_effective (COC 0
-- counts as infinite) and point-person share < stage3_max_pp_share; stage 1 when
-- point-person share >= stage1_pp_share; else 2. NULL (inactive) when N = 0.
-- low_evidence when 0 < N < low_evidence_below.
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        getvariable('window_months')::INTEGER as window_months,
        getvariable('stage3_practice_share')::DOUBLE as stage3_practice_share,
        getvariable('stage3_min_referrals')::INTEGER as stage3_min_referrals,
        getvariable('stage3_min_effective')::DOUBLE as stage3_min_effective,
        getvariable('stage3_max_pp_share')::DOUBLE as stage3_max_pp_share,
        getvariable('stage1_pp_share')::DOUBLE as stage1_pp_share,
        getvariable('low_evidence_below')::INTEGER as low_evidence_below
),

referrals_to_date as (
    select f.*
    from referral_facts f, params p
    where f.source_kind = 'referrer'
      and f.referral_date <= last_day(p.report_month)
),

monthly as (
    select
        referrer,
        referral_month as month,
        count(*) as n,
        count(*) filter (where requested_known) as known,
        count(*) filter (where requested_known and requested_practice) as practice
    from referrals_to_date
    group by referrer, referral_month
),

-- n_c(m), the referrals to clinician c in the window at m, only changes in the month a
-- month's referrals enter the window and window_months later, when they leave it. So
-- the sums over clinicians are carried as changes at those months (entering +n,
-- leaving -n) and added up along the grid: the cost grows with the referrals, not
-- with referrals x window_months.
per_clinician_month as (
    select referrer, assigned_clinician as clinician, referral_month as month, count(*) as n
    from referrals_to_date
    group by all
),

clinician_changes as (
    select referrer, clinician, month, sum(delta) as delta
    from (
        select referrer, clinician, month, n as delta from per_clinician_month
        union all
        select referrer, clinician, (month + to_months(getvariable('window_months')::INTEGER))::DATE, -n
        from per_clinician_month
    )
    group by all
),

clinician_counts as (
    select
        referrer,
        month,
        sum(delta) over (partition by referrer, clinician order by month
                         rows between unbounded preceding and current row) as n_after,
        delta
    from clinician_changes
),

spread_changes as (
    select
        referrer,
        month,
        sum(n_after * n_after - (n_after - delta) * (n_after - delta)) as sum_sq_delta,
        sum((n_after > 0)::INTEGER - (n_after - delta > 0)::INTEGER) as clinicians_delta
    from clinician_counts
    group by all
),

-- point_persons has one row per referrer and month, no gaps: the grid. The window sums
-- and the spread's running sums along it are one select: both windows share the
-- partition and order, so DuckDB sorts once.
windowed as (
    select
        g.referrer,
        g.month,
        g.point_person,
        g.point_person_source,
        coalesce(m.n, 0) as this_month,
        sum(coalesce(m.n, 0)) over w as n,
        sum(coalesce(m.known, 0)) over w as known,
        sum(coalesce(m.practice, 0)) over w as practice,
        sum(coalesce(c.clinicians_delta, 0)) over r as clinicians,
        sum(coalesce(c.sum_sq_delta, 0)) over r as sum_sq
    from point_persons g
    left join monthly m on m.referrer = g.referrer and m.month = g.month
    left join spread_changes c on c.referrer = g.referrer and c.month = g.month
    window
        w as (
            partition by g.referrer order by g.month
            rows between getvariable('window_months')::INTEGER - 1 preceding and current row
        ),
        r as (partition by g.referrer order by g.month rows between unbounded preceding and current row)
),

-- Referrals to the point person at m: for each clinician who is ever a referrer's point
-- person (one or two per referrer), a windowed count along the dense grid, then the one
-- who is the point person at m is picked. Equality joins only: the models are built in
-- one transaction, where fresh tables have no statistics and the optimizer would turn
-- an as-of or range join into a nested loop.
per_target_month as (
    select referrer, pp_target, referral_month as month, count(*) as n
    from referrals_to_date
    group by all
),

point_person_counts as (
    select
        g.referrer,
        g.month,
        pp.point_person as target,
        sum(coalesce(t.n, 0)) over (
            partition by g.referrer, pp.point_person order by g.month
            rows between getvariable('window_months')::INTEGER - 1 preceding and current row
        ) as n
    from windowed g
    join (select distinct referrer, point_person from point_persons) pp on pp.referrer = g.referrer
    left join per_target_month t
        on t.referrer = g.referrer
        and t.pp_target = pp.point_person
        and t.month = g.month
),

measured as (
    select
        w.referrer,
        w.month,
        w.point_person,
        w.point_person_source,
        w.this_month::BIGINT as this_month,
        w.n::BIGINT as n,
        w.known::BIGINT as known,
        w.practice::BIGINT as practice,
        w.clinicians::BIGINT as clinicians,
        w.sum_sq::BIGINT as sum_sq,
        coalesce(t.n, 0)::BIGINT as to_pp
    from windowed w
    left join point_person_counts t
        on t.referrer = w.referrer
        and t.month = w.month
        and t.target = w.point_person
),

shares as (
    select
        *,
        case when n > 0 then to_pp / n end as point_person_share,
        case when known > 0 then practice / known end as practice_share,
        case when n >= 2 then (sum_sq - n) / (n * (n - 1)) end as coc,
        -- One division of integers, so that e.g. exactly 3 compares equal to 3.
        case when n >= 2 and sum_sq > n then (n * (n - 1)) / (sum_sq - n) end as effective_clinicians
    from measured
)

select
    s.referrer,
    s.month,
    last_day(s.month) as month_end,
    s.n::INTEGER as referrals,
    s.clinicians::INTEGER as clinicians,
    s.point_person,
    s.point_person_share,
    s.practice_share,
    s.coc,
    s.effective_clinicians,
    case
        when s.n = 0 then null
        when s.practice_share >= p.stage3_practice_share then 3
        when s.practice_share is null
            and s.n >= p.stage3_min_referrals
            and (s.coc = 0 or s.effective_clinicians >= p.stage3_min_effective)
            and s.point_person_share < p.stage3_max_pp_share then 3
        when s.point_person_share >= p.stage1_pp_share then 1
        else 2
    end::INTEGER as stage,
    s.n > 0 and s.n < p.low_evidence_below as low_evidence,
    s.this_month::INTEGER as referrals_this_month,
    s.to_pp::INTEGER as point_person_referrals,
    s.practice::INTEGER as practice_referrals,
    s.known::INTEGER as requests_known,
    s.point_person_source
from shares s, params p
