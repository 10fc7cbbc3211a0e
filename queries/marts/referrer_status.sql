-- referrer_status: one row per referrer (not channels) with a referral on or before
-- the report month's end: its referrer_months row for the report month, its history
-- and the flags of DOMAIN.md "What the reports must answer".
--
-- History (over referrer_months and its stage_transitions, so up to the report month):
--   stage_since      first month of the current unbroken run of the same stage (for an
--                    inactive referrer: of the current run of inactive months)
--   previous_stage   the last non-NULL stage before that run that differs from the
--                    current stage
--   months_to_stage2/3  months from the first referral month to the first month at
--                    stage >= 2 / at stage 3 (NULL: not yet)
--   regressions      months whose stage is below the previous month's (3->2, 3->1,
--                    2->1); a lapse and a restart lower are a lapse and a start, not a fall
-- Flags (';'-joined in this order, '' when none). "The last recent_days" are the
-- recent_days days ending on the report month's last day, that day included.
--   ready     stage 1, N >= ready_min_referrals, a referral in the last recent_days
--   stalled   stage 2 for stalled_months months or more (the report month included)
--   cooling   referrals in the last recent_days < cooling_ratio x the 9 months before
--             them scaled to recent_days (days counted exactly); only when those 9
--             months had some, and not once lapsed (the lapsed list takes it then)
--   lapsed    no referral in the last lapsed_months months (the report month
--             included) after lapsed_min_referrals or more in total
--   regressed the stage fell in the report month or the 2 months before, and the
--             current stage is still below the stage it fell from (a referrer that
--             has recovered, or lapsed, is not listed)
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        last_day(getvariable('report_month')::DATE) as report_end,
        (last_day(getvariable('report_month')::DATE) - to_days(getvariable('recent_days')::INTEGER))::DATE as recent_after,
        getvariable('recent_days')::INTEGER as recent_days,
        getvariable('ready_min_referrals')::INTEGER as ready_min_referrals,
        getvariable('stalled_months')::INTEGER as stalled_months,
        getvariable('lapsed_months')::INTEGER as lapsed_months,
        getvariable('lapsed_min_referrals')::INTEGER as lapsed_min_referrals,
        getvariable('cooling_ratio')::DOUBLE as cooling_ratio
),

-- The grid has every month from the first referral to the report month, so the
-- current run of one stage begins the month after the last month of another stage
-- (or at the first month), and every month of another stage lies before it: no
-- numbering of the runs (two more window passes over the grid) is needed.
current_stage as (
    select m.referrer, m.stage
    from referrer_months m, params p
    where m.month = p.report_month
),

history_summary as (
    select
        r.referrer,
        coalesce((max(r.month) filter (where r.stage is distinct from c.stage) + to_months(1))::DATE,
                 min(r.month)) as stage_since,
        arg_max(r.stage, r.month) filter (
            where r.stage is not null and r.stage is distinct from c.stage
        ) as previous_stage,
        min(r.month) as first_month,
        min(r.month) filter (where r.stage >= 2) as first_stage2,
        min(r.month) filter (where r.stage = 3) as first_stage3
    from referrer_months r
    join current_stage c on c.referrer = r.referrer
    cross join params p
    where r.month <= p.report_month
    group by r.referrer
),

-- The falls (a month whose stage is below the month before's) are stage_transitions'
-- 'down' rows, which that model finds with the one pass over the grid it makes anyway:
-- here a second pass (the previous month's stage, a window over the 1M grid rows at 10M
-- exported rows) took 0.21 of 0.51 CPU-seconds, and the model 0.50 s against 0.31 s.
falls as (
    select
        t.referrer,
        count(*) as regressions,
        -- the latest fall in the last 3 months and the stage it fell from
        arg_max({'month': t.month, 'from': t.from_stage}, t.month) filter (
            where t.month > p.report_month - to_months(3)
        ) as recent_fall
    from stage_transitions t, params p
    where t.direction = 'down' and t.month <= p.report_month
    group by t.referrer
),

counts as (
    select
        f.referrer,
        min(f.referral_date) as first_referral,
        max(f.referral_date) as last_referral,
        count(*) as referrals_ever,
        count(*) filter (where f.referral_date > p.recent_after) as referrals_recent,
        count(*) filter (
            where f.referral_date <= p.recent_after
              and f.referral_date > (p.recent_after - to_months(9))::DATE
        ) as referrals_prior
    from referral_facts f, params p
    where f.source_kind = 'referrer'
      and f.referral_date <= p.report_end
    group by f.referrer
),

assembled as (
    select
        m.*,
        d.category,
        d.npi,
        h.stage_since,
        h.previous_stage::INTEGER as previous_stage,
        c.first_referral,
        c.last_referral,
        date_diff('month', h.first_month, h.first_stage2)::INTEGER as months_to_stage2,
        date_diff('month', h.first_month, h.first_stage3)::INTEGER as months_to_stage3,
        coalesce(f.regressions, 0)::INTEGER as regressions,
        c.referrals_ever::INTEGER as referrals_ever,
        c.referrals_recent::INTEGER as referrals_recent,
        c.referrals_prior::INTEGER as referrals_prior,
        m.stage = 1
            and m.referrals >= p.ready_min_referrals
            and c.referrals_recent > 0 as is_ready,
        m.stage = 2
            and date_diff('month', h.stage_since, p.report_month) + 1 >= p.stalled_months as is_stalled,
        c.referrals_ever >= p.lapsed_min_referrals
            and c.last_referral < p.report_month - to_months(p.lapsed_months - 1) as is_lapsed,
        c.referrals_prior > 0
            and c.referrals_recent < p.cooling_ratio * c.referrals_prior * p.recent_days
                / date_diff('day', p.recent_after - to_months(9), p.recent_after) as cools,
        m.stage is not null
            and f.recent_fall is not null
            and m.stage < f.recent_fall['from'] as is_regressed,
        f.recent_fall['month']::DATE as regressed_in,
        f.recent_fall['from']::INTEGER as regressed_from
    from referrer_months m
    cross join params p
    join history_summary h on h.referrer = m.referrer
    left join falls f on f.referrer = m.referrer
    join counts c on c.referrer = m.referrer
    left join stg_referrers d on d.referrer = m.referrer
    where m.month = p.report_month
)

select
    * exclude (is_ready, is_stalled, is_lapsed, cools, is_regressed, regressed_in, regressed_from,
               referrals_ever, referrals_recent, referrals_prior),
    concat_ws(';',
        case when is_ready then 'ready' end,
        case when is_stalled then 'stalled' end,
        case when cools and not is_lapsed then 'cooling' end,
        case when is_lapsed then 'lapsed' end,
        case when is_regressed then 'regressed' end
    ) as flags,
    referrals_ever,
    referrals_recent,
    referrals_prior,
    case when is_regressed then regressed_in end as regressed_in,
    case when is_regressed then regressed_from end as regressed_from
from assembled
