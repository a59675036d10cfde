"""Small Thai word lists (with the usual romanisation) for realistic generated names."""

from __future__ import annotations

# Village names are built like real ones: a landform and a qualifier (หนอง + บัว = Nong Bua).
PLACE_HEADS: tuple[tuple[str, str], ...] = (
    ("หนอง", "Nong"), ("โนน", "Non"), ("ดอน", "Don"), ("ห้วย", "Huai"), ("นา", "Na"),
    ("โคก", "Khok"), ("บ่อ", "Bo"), ("ป่า", "Pa"), ("ทุ่ง", "Thung"), ("วัง", "Wang"),
    ("สระ", "Sa"), ("คลอง", "Khlong"), ("บึง", "Bueng"), ("ท่า", "Tha"), ("เขา", "Khao"),
    ("ดง", "Dong"), ("แม่", "Mae"), ("สัน", "San"), ("บาง", "Bang"), ("ลำ", "Lam"),
)  # fmt: skip
PLACE_TAILS: tuple[tuple[str, str], ...] = (
    ("บัว", "Bua"), ("ใหญ่", "Yai"), ("แดง", "Daeng"), ("ทราย", "Sai"), ("ยาง", "Yang"),
    ("สูง", "Sung"), ("งาม", "Ngam"), ("ขาม", "Kham"), ("ไผ่", "Phai"), ("มะม่วง", "Mamuang"),
    ("ตะเคียน", "Takhian"), ("แก้ว", "Kaeo"), ("คำ", "Kham"), ("ทอง", "Thong"), ("หิน", "Hin"),
    ("จาน", "Chan"), ("เตย", "Toei"), ("กลาง", "Klang"), ("น้อย", "Noi"), ("โพธิ์", "Pho"),
    ("สำราญ", "Samran"), ("เจริญ", "Charoen"), ("พัฒนา", "Phatthana"), ("ศรี", "Si"), ("ตาล", "Tan"),
)  # fmt: skip

# (Thai pattern, English pattern, weight); {th}/{en} is a place, {amphoe_th}/{amphoe_en} the district
PRIMARY_SCHOOL_NAMES: tuple[tuple[str, str, int], ...] = (
    ("โรงเรียนบ้าน{th}", "Ban {en} School", 60),
    ("โรงเรียนวัด{th}", "Wat {en} School", 30),
    ("โรงเรียนชุมชนบ้าน{th}", "Chumchon Ban {en} School", 10),
)
SECONDARY_SCHOOL_NAMES: tuple[tuple[str, str, int], ...] = (
    ("โรงเรียน{th}พิทยาคม", "{en} Phitthayakhom School", 50),
    ("โรงเรียน{th}วิทยา", "{en} Witthaya School", 30),
    ("โรงเรียน{amphoe_th}วิทยาคม", "{amphoe_en} Witthayakhom School", 20),
)
ANUBAN_SCHOOL = ("โรงเรียนอนุบาล{amphoe_th}", "Anuban {amphoe_en} School")

FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("มาลี", "Malee"), ("สมชาย", "Somchai"), ("สุดารัตน์", "Sudarat"), ("วิไลวรรณ", "Wilaiwan"),
    ("ประเสริฐ", "Prasert"), ("กมลชนก", "Kamonchanok"), ("ธนพล", "Thanaphon"), ("ศิริพร", "Siriporn"),
    ("อนุชา", "Anucha"), ("นภาพร", "Napaporn"), ("วีระ", "Weera"), ("จันทร์เพ็ญ", "Chanphen"),
    ("สุภาพ", "Suphap"), ("ปิยะ", "Piya"), ("รัตนา", "Rattana"), ("ชัยวัฒน์", "Chaiwat"),
    ("พิมพ์ใจ", "Pimjai"), ("เกศินี", "Kesinee"), ("บุญมี", "Boonmee"), ("ณัฐวุฒิ", "Natthawut"),
    ("อรุณี", "Arunee"), ("สมศักดิ์", "Somsak"), ("ดวงใจ", "Duangjai"), ("ทองใบ", "Thongbai"),
)  # fmt: skip
SURNAMES: tuple[tuple[str, str], ...] = (
    ("ศรีสุข", "Srisuk"), ("ใจดี", "Jaidee"), ("บุญมา", "Boonma"), ("แก้วมณี", "Kaewmanee"),
    ("ทองดี", "Thongdee"), ("สุขเจริญ", "Sukcharoen"), ("วงศ์ใหญ่", "Wongyai"), ("พรหมมา", "Phromma"),
    ("รักษ์ไทย", "Rakthai"), ("มั่นคง", "Mankong"), ("ศรีวงศ์", "Sriwong"), ("อินทร์แก้ว", "Inkaew"),
    ("คำแสน", "Khamsaen"), ("ปัญญาดี", "Panyadee"), ("สายทอง", "Saithong"), ("เรืองศรี", "Ruangsri"),
)  # fmt: skip

# The eight learning areas of the Basic Education Core Curriculum
SUBJECTS: tuple[str, ...] = (
    "ภาษาไทย",
    "คณิตศาสตร์",
    "วิทยาศาสตร์และเทคโนโลยี",
    "สังคมศึกษา ศาสนา และวัฒนธรรม",
    "สุขศึกษาและพลศึกษา",
    "ศิลปะ",
    "การงานอาชีพ",
    "ภาษาต่างประเทศ",
)
