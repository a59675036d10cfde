// Thai/English labels and the current language. Thai is the default: most users are Thai office staff.
const STRINGS = {
  th: {
    skip: 'ข้ามไปยังเนื้อหาหลัก',
    brand: 'เครือข่ายวิชาการ',
    title_suffix: 'แดชบอร์ดเครือข่ายวิชาการ',
    signout: 'ออกจากระบบ',
    lang_button: 'English',
    lang_aria: 'Switch to English',
    period: 'ภาคเรียน',
    breadcrumbs: 'เส้นทางหน่วยงาน',
    loading: 'กำลังโหลด…',
    // sign-in
    signin_title: 'เข้าสู่ระบบ',
    signin_intro: 'วางโทเคนการเข้าถึง (JWT) ที่ได้รับจากระบบยืนยันตัวตนของหน่วยงาน',
    token_label: 'โทเคนการเข้าถึง (JWT)',
    signin_submit: 'เข้าสู่ระบบ',
    signin_checking: 'กำลังตรวจสอบโทเคน…',
    signin_empty: 'กรุณาวางโทเคนก่อนเข้าสู่ระบบ',
    signin_bad: 'โทเคนไม่ถูกต้องหรือหมดอายุ',
    demo_title: 'ผู้ใช้สาธิต',
    demo_intro: 'ระบบสาธิต: เลือกผู้ใช้เพื่อเข้าสู่ระบบด้วยคลิกเดียว',
    session_expired: 'เซสชันหมดอายุหรือไม่ได้รับอนุญาต กรุณาเข้าสู่ระบบอีกครั้ง',
    public_link: 'ดูข้อมูลสาธารณะ (ไม่ต้องเข้าสู่ระบบ)',
    // liveness
    live_seconds: 'อัปเดตเมื่อ {n} วินาทีที่แล้ว',
    live_minutes: 'อัปเดตเมื่อ {n} นาทีที่แล้ว',
    live_hours: 'อัปเดตเมื่อ {n} ชั่วโมงที่แล้ว',
    live_days: 'อัปเดตเมื่อ {n} วันที่แล้ว',
    live_never: 'ยังไม่มีข้อมูลการอัปเดต',
    state_lagging: 'ข้อมูลล่าช้า (ค้างประมวลผล {n} รายการ)',
    state_lagging_plain: 'ข้อมูลล่าช้า',
    state_feed_down: 'ระบบประมวลผลข้อมูลติดต่อไม่ได้ ตัวเลขอาจไม่เป็นปัจจุบัน',
    state_unreachable: 'ติดต่อบริการไม่ได้ กำลังลองใหม่',
    announce_updated: 'ข้อมูลอัปเดตแล้ว',
    announce_live: 'ข้อมูลเป็นปัจจุบัน',
    // sections
    tiles_title: 'ตัวชี้วัด',
    target: 'เป้าหมาย',
    no_data: 'ไม่มีข้อมูล',
    trend_label: 'แนวโน้ม {n} ภาคเรียน: {values}',
    trend_none: 'ไม่มีข้อมูลแนวโน้ม',
    charts_title: 'กราฟ',
    chart_achievement: 'ผลสัมฤทธิ์ O-NET ปีการศึกษา {year} เทียบค่าเฉลี่ยจังหวัดและประเทศ',
    chart_achievement_none: 'ไม่มีผล O-NET',
    chart_activity: 'กิจกรรมแต่ละภาคเรียนตามรูปแบบเครือข่าย',
    chart_mix: 'สัดส่วนกิจกรรมตามรูปแบบเครือข่าย',
    this_unit: 'หน่วยงานนี้',
    province_mean: 'ค่าเฉลี่ยจังหวัด',
    national_mean: 'ค่าเฉลี่ยประเทศ',
    subject: 'วิชา',
    suppressed: 'ปกปิด (กลุ่มเล็ก)',
    suppressed_short: 'ปกปิด',
    model_supervision: 'การนิเทศ (ครั้ง)',
    model_training: 'การอบรม (รอบ)',
    model_committee: 'การประชุมคณะกรรมการ (ครั้ง)',
    model: 'รูปแบบ',
    modelname_supervision: 'การนิเทศ',
    modelname_training: 'การอบรม',
    modelname_committee: 'คณะกรรมการ',
    count: 'จำนวน',
    semester: 'ภาคเรียน',
    children_title: 'หน่วยงานในสังกัด',
    children_filter: 'ค้นหาหน่วยงาน',
    children_count: 'แสดง {shown} จาก {total} หน่วยงาน',
    children_none: 'ไม่พบหน่วยงานที่ตรงกับคำค้น',
    col_name: 'หน่วยงาน',
    sort_hint: 'เรียงลำดับ',
    table_scroll: 'ตารางหน่วยงานในสังกัด (เลื่อนในแนวนอนได้)',
    alerts_title: 'การแจ้งเตือนที่ยังเปิดอยู่',
    alerts_none: 'ไม่มีการแจ้งเตือนที่เปิดอยู่',
    alerts_scroll: 'รายการแจ้งเตือน (เลื่อนดูได้)',
    alerts_total: 'แสดง {shown} จาก {total} รายการ',
    raised_at: 'แจ้งเมื่อ',
    activity_title: 'กิจกรรมล่าสุดของโรงเรียน',
    activity_none: 'ยังไม่มีกิจกรรม',
    map_title: 'แผนที่จังหวัด',
    map_indicator: 'ตัวชี้วัดบนแผนที่',
    map_label: 'แผนที่ 77 จังหวัด ระบายสีตามสถานะ {indicator}; ใช้ปุ่มลูกศรเพื่อเลื่อน และ Enter เพื่อดูรายละเอียด',
    map_legend: 'คำอธิบายสี',
    map_unavailable: 'ไม่สามารถโหลดข้อมูลแผนที่ได้',
    map_credit: 'แผนที่: @svg-maps/thailand โดย Tae Noppakun Wongsrinoppakun',
    status_on_track: 'เป็นไปตามเป้าหมาย',
    status_at_risk: 'มีความเสี่ยง',
    status_off_track: 'ไม่เป็นไปตามเป้าหมาย',
    status_no_data: 'ไม่มีข้อมูล',
    level_national: 'ประเทศ',
    level_province: 'จังหวัด',
    level_esa: 'เขตพื้นที่การศึกษา',
    level_cluster: 'กลุ่มเครือข่าย',
    level_school: 'โรงเรียน',
    // public
    public_title: 'ข้อมูลสาธารณะ',
    public_about: 'หน้านี้แสดงเฉพาะข้อมูลภาพรวมระดับประเทศ จังหวัด และเขตพื้นที่การศึกษา ไม่แสดงข้อมูลรายโรงเรียนหรือรายบุคคล และซ่อนตัวเลขของกลุ่มที่มีขนาดเล็กเพื่อคุ้มครองความเป็นส่วนตัว',
    public_about_en: 'This page shows aggregates only, for the country, provinces and education service areas. It never shows individual schools or people, and figures for small groups are hidden to protect privacy.',
    public_signin: 'เจ้าหน้าที่: เข้าสู่ระบบ',
    data_as_of: 'ข้อมูล ณ {date}',
    error_generic: 'เกิดข้อผิดพลาด ({status})',
    error_network: 'ติดต่อเซิร์ฟเวอร์ไม่ได้',
    not_found_page: 'ไม่พบหน้าที่ต้องการ',
    hours_unit: 'ชม.',
    points_unit: 'คะแนน',
  },
  en: {
    skip: 'Skip to main content',
    brand: 'Academic Network',
    title_suffix: 'Academic Network dashboard',
    signout: 'Sign out',
    lang_button: 'ไทย',
    lang_aria: 'เปลี่ยนเป็นภาษาไทย',
    period: 'Semester',
    breadcrumbs: 'Breadcrumbs',
    loading: 'Loading…',
    signin_title: 'Sign in',
    signin_intro: "Paste the access token (JWT) issued by your office's identity provider.",
    token_label: 'Access token (JWT)',
    signin_submit: 'Sign in',
    signin_checking: 'Checking the token…',
    signin_empty: 'Please paste a token first.',
    signin_bad: 'The token is invalid or has expired.',
    demo_title: 'Demo users',
    demo_intro: 'Demo system: pick a user to sign in with one click.',
    session_expired: 'Your session has expired or is not authorised. Please sign in again.',
    public_link: 'See the public figures (no sign-in)',
    live_seconds: 'Updated {n} seconds ago',
    live_minutes: 'Updated {n} minutes ago',
    live_hours: 'Updated {n} hours ago',
    live_days: 'Updated {n} days ago',
    live_never: 'No updates yet',
    state_lagging: 'Data lagging ({n} events waiting)',
    state_lagging_plain: 'Data lagging',
    state_feed_down: 'Data feed unreachable: figures may be out of date',
    state_unreachable: 'Service unreachable, retrying',
    announce_updated: 'Figures updated',
    announce_live: 'Data is live',
    tiles_title: 'Indicators',
    target: 'Target',
    no_data: 'No data',
    trend_label: 'Trend over {n} semesters: {values}',
    trend_none: 'No trend data',
    charts_title: 'Charts',
    chart_achievement: 'O-NET results {year} against province and national means',
    chart_achievement_none: 'No O-NET results',
    chart_activity: 'Activity per semester by network model',
    chart_mix: 'Activity mix by network model',
    this_unit: 'This unit',
    province_mean: 'Province mean',
    national_mean: 'National mean',
    subject: 'Subject',
    suppressed: 'Suppressed (small group)',
    suppressed_short: 'suppressed',
    model_supervision: 'Supervision visits',
    model_training: 'Training sessions',
    model_committee: 'Committee meetings',
    model: 'Model',
    modelname_supervision: 'Supervision',
    modelname_training: 'Training',
    modelname_committee: 'Committee',
    count: 'Count',
    semester: 'Semester',
    children_title: 'Units below',
    children_filter: 'Filter units',
    children_count: 'Showing {shown} of {total} units',
    children_none: 'No unit matches the filter',
    col_name: 'Unit',
    sort_hint: 'sort',
    table_scroll: 'Units below (scrolls sideways)',
    alerts_title: 'Open alerts',
    alerts_none: 'No open alerts',
    alerts_scroll: 'Alert list (scrolls)',
    alerts_total: 'Showing {shown} of {total}',
    raised_at: 'Raised',
    activity_title: 'Recent school activity',
    activity_none: 'No activity yet',
    map_title: 'Province map',
    map_indicator: 'Indicator on the map',
    map_label: 'Map of the 77 provinces coloured by the status of {indicator}; use the arrow keys to move and Enter to open',
    map_legend: 'Legend',
    map_unavailable: 'The map data could not be loaded',
    map_credit: 'Map: @svg-maps/thailand by Tae Noppakun Wongsrinoppakun',
    status_on_track: 'On track',
    status_at_risk: 'At risk',
    status_off_track: 'Off track',
    status_no_data: 'No data',
    level_national: 'Country',
    level_province: 'Province',
    level_esa: 'Education service area',
    level_cluster: 'Cluster',
    level_school: 'School',
    public_title: 'Public figures',
    public_about: 'หน้านี้แสดงเฉพาะข้อมูลภาพรวมระดับประเทศ จังหวัด และเขตพื้นที่การศึกษา ไม่แสดงข้อมูลรายโรงเรียนหรือรายบุคคล และซ่อนตัวเลขของกลุ่มที่มีขนาดเล็กเพื่อคุ้มครองความเป็นส่วนตัว',
    public_about_en: 'This page shows aggregates only, for the country, provinces and education service areas. It never shows individual schools or people, and figures for small groups are hidden to protect privacy.',
    public_signin: 'Staff: sign in',
    data_as_of: 'Data as of {date}',
    error_generic: 'Something went wrong ({status})',
    error_network: 'The server cannot be reached',
    not_found_page: 'Page not found',
    hours_unit: 'h',
    points_unit: 'points',
  },
};

const listeners = new Set();
let lang = localStorage.getItem('anp.lang') === 'en' ? 'en' : 'th';

export const getLang = () => lang;

/** The Intl locale for numbers; dates use `dateLocale` (Thai dates in the Buddhist Era). */
export const locale = () => (lang === 'th' ? 'th-TH' : 'en-GB');
export const dateLocale = () => (lang === 'th' ? 'th-TH-u-ca-buddhist' : 'en-GB');

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.th[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** The `<base>_th` or `<base>_en` field of an API object (names, labels, messages), falling back to the other. */
export function pick(obj, base = 'name') {
  if (!obj) return '';
  const other = lang === 'th' ? 'en' : 'th';
  return obj[`${base}_${lang}`] || obj[`${base}_${other}`] || '';
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'th';
  localStorage.setItem('anp.lang', lang);
  document.documentElement.lang = lang;
  translateDom();
  listeners.forEach((fn) => fn(lang));
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Static labels carry `data-i18n` (text) or `data-i18n-aria` (aria-label) keys, so a switch needs no re-render. */
export function translateDom(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-aria]').forEach((el) => el.setAttribute('aria-label', t(el.dataset.i18nAria)));
}
