"""Why a delivery cannot be read: stable reason codes and the Chinese message a clerk acts on.

Each function returns the ``DeliveryRejected`` to raise, so the wording lives in one place and every
message ends with what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence

from etl.errors import DeliveryRejected

EMPTY_FILE = "EMPTY_FILE"
NO_DATA_ROWS = "NO_DATA_ROWS"
UNDECODABLE = "UNDECODABLE"
UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
OLD_XLS = "OLD_XLS"
MACRO_WORKBOOK = "MACRO_WORKBOOK"
ENCRYPTED_WORKBOOK = "ENCRYPTED_WORKBOOK"
CORRUPT_FILE = "CORRUPT_FILE"
WORKBOOK_TOO_LARGE = "WORKBOOK_TOO_LARGE"
RECORD_TOO_LARGE = "RECORD_TOO_LARGE"
NESTED_JSON = "NESTED_JSON"
HEADER_NOT_FOUND = "HEADER_NOT_FOUND"
NO_MATCHING_SHEET = "NO_MATCHING_SHEET"
SEVERAL_MATCHING_SHEETS = "SEVERAL_MATCHING_SHEETS"
INVALID_JSON = "INVALID_JSON"
MALFORMED_CSV = "MALFORMED_CSV"
UNSUPPORTED_COLUMN_TYPE = "UNSUPPORTED_COLUMN_TYPE"

# Row-level, not a rejection of the file: a CSV record with another number of columns than the header.
RAGGED_ROW = "RAGGED_ROW"

_FLAT_JSON = '文件应为一个由一层 {"列名": "值", …} 对象组成的 JSON 数组（或每行一个这样的对象）'
_SAVE_AS = "请在 Excel 或 WPS 中打开后另存为 .xlsx 工作簿或“CSV UTF-8（逗号分隔）”文件再报送"


def empty_file() -> DeliveryRejected:
    return DeliveryRejected(EMPTY_FILE, "文件是空的，没有任何内容；请确认导出的文件正确后重新报送")


def no_data_rows(title: str, what: str = "文件只有表头，没有数据行") -> DeliveryRejected:
    return DeliveryRejected(
        NO_DATA_ROWS,
        f"{what}；如本期没有《{title}》数据，无需报送空文件，否则请填入数据后重新报送",
    )


def undecodable(offset: int | None) -> DeliveryRejected:
    where = "" if offset is None else f"第{offset + 1}个字节附近"
    return DeliveryRejected(
        UNDECODABLE,
        f"无法识别文件的字符编码：既不是 UTF-8，也不是 GBK/GB18030（{where}无法解码，"
        f"可能混用了多种编码或文件已损坏）；{_SAVE_AS}",
    )


def unsupported_format(what: str) -> DeliveryRejected:
    return DeliveryRejected(
        UNSUPPORTED_FORMAT, f"不支持的文件格式：这是{what}，只接受 CSV、.xlsx、JSON 文件；{_SAVE_AS}"
    )


def old_xls() -> DeliveryRejected:
    return DeliveryRejected(
        OLD_XLS, f"这是旧版 Excel 97-2003 工作簿（.xls）或其他旧版 Office 文件，不能直接读取；{_SAVE_AS}"
    )


def macro_workbook() -> DeliveryRejected:
    return DeliveryRejected(
        MACRO_WORKBOOK,
        "这是带宏的工作簿（.xlsm），出于安全原因不予接收；请另存为不带宏的 .xlsx 工作簿后重新报送",
    )


def encrypted_workbook() -> DeliveryRejected:
    return DeliveryRejected(
        ENCRYPTED_WORKBOOK, "工作簿设置了打开密码，无法读取；请取消密码保护（文件→信息→保护工作簿）后重新报送"
    )


def workbook_too_large(inflated_bytes: int, ratio: float | None) -> DeliveryRejected:
    size = f"{inflated_bytes / (1 << 20):,.0f} MB"
    why = f"压缩比达 {ratio:,.0f} 倍，远超正常工作簿，疑似“压缩炸弹”" if ratio else "超出平台可处理的范围"
    return DeliveryRejected(
        WORKBOOK_TOO_LARGE,
        f"工作簿解压后有 {size}（{why}），为保护平台未予读取；"
        "请确认文件来源可靠，删除无关内容后重新导出，或把数据分成多个文件报送",
    )


def record_too_large(limit_bytes: int) -> DeliveryRejected:
    return DeliveryRejected(
        RECORD_TOO_LARGE,
        f"CSV 文件中有一行超过 {limit_bytes >> 20} MB"
        "（某个单元格内容异常巨大，或引号没有成对出现使很多行连成了一行），无法读取；"
        "目录中每一列都有长度上限（如违法事实不超过 5000 字），请核对该单元格后重新报送",
    )


def json_record_too_large(record: int, limit_chars: int) -> DeliveryRejected:
    return DeliveryRejected(
        RECORD_TOO_LARGE,
        f"JSON 文件第{record}条记录超过 {limit_chars >> 20} M 个字符"
        f"（某个值异常巨大，或全部数据被包在「data」等字段中的一个大对象里），无法读取；{_FLAT_JSON}，"
        "每个值不超过目录规定的长度",
    )


def nested_json(record: int, key: str) -> DeliveryRejected:
    return DeliveryRejected(
        NESTED_JSON,
        f"JSON 文件第{record}条记录中「{key}」的值是嵌套的对象或数组，不是一个单元格的值；{_FLAT_JSON}，"
        "请不要把数据包在「data」「rows」等字段里，也不要在值中嵌套对象或数组",
    )


def corrupt_file(what: str) -> DeliveryRejected:
    return DeliveryRejected(CORRUPT_FILE, f"{what}已损坏或不完整，无法打开；请重新导出后报送")


def header_not_found(title: str, expected: Sequence[str], rows: int) -> DeliveryRejected:
    return DeliveryRejected(
        HEADER_NOT_FOUND,
        f"在文件前{rows}行中没有找到《{title}》的表头（应包含 {'、'.join(expected)} 等列）；"
        "请确认报送的数据集正确，并使用目录规定的表头",
    )


def no_matching_sheet(title: str, sheets: Sequence[str], expected: Sequence[str]) -> DeliveryRejected:
    names = "、".join(f"「{s}」" for s in sheets)
    return DeliveryRejected(
        NO_MATCHING_SHEET,
        f"工作簿的工作表（{names}）中没有一个带有《{title}》的表头（应包含 {'、'.join(expected)} 等列）；"
        "请确认报送的数据集正确，并使用目录规定的表头",
    )


def several_matching_sheets(title: str, sheets: Sequence[str]) -> DeliveryRejected:
    names = "、".join(f"「{s}」" for s in sheets)
    return DeliveryRejected(
        SEVERAL_MATCHING_SHEETS,
        f"工作簿中有多个工作表都是《{title}》数据：{names}，无法确定以哪个为准；"
        "请把数据合并到一个工作表中，或每个工作表分别存为一个文件报送",
    )


def invalid_json(record: int, detail: str) -> DeliveryRejected:
    return DeliveryRejected(
        INVALID_JSON,
        f"JSON 格式错误：第{record}条记录附近无法解析（{detail}）；"
        "文件应为一个由对象组成的 JSON 数组，或每行一个 JSON 对象，请检查文件是否完整后重新报送",
    )


def json_not_records(record: int) -> DeliveryRejected:
    return DeliveryRejected(
        INVALID_JSON,
        f'JSON 文件第{record}条记录不是对象（{{"列名": "值", …}}）；'
        "文件应为一个由对象组成的 JSON 数组，或每行一个 JSON 对象",
    )


def malformed_csv(detail: str) -> DeliveryRejected:
    return DeliveryRejected(
        MALFORMED_CSV,
        f"CSV 文件格式错误，无法继续读取（{detail}）；常见原因是某个单元格的引号没有成对出现，{_SAVE_AS}",
    )


def unsupported_column_type(column: str, type_name: str) -> DeliveryRejected:
    return DeliveryRejected(
        UNSUPPORTED_COLUMN_TYPE,
        f"列「{column}」的数据类型（{type_name}）无法作为表格单元格读取；请把该列导出为文本、数字或日期",
    )


def ragged_row_message(row: int, actual: int, expected: int, delimiter: str, lines: int = 1) -> str:
    """The message for a CSV record whose column count differs from the header's; ``lines`` is how
    many lines of the file it spans (more than one: a quote left open swallowed the lines after it).

    >>> ragged_row_message(4, 15, 31, ",", lines=4)[:57]
    '第4行有15列，而表头有31列：该行有一个引号没有闭合，从该行起共4行文字都被读成了这一行的内容，这些行都未读入；'
    """
    if lines > 1:
        return (
            f"第{row}行有{actual}列，而表头有{expected}列：该行有一个引号没有闭合，"
            f"从该行起共{lines}行文字都被读成了这一行的内容，这些行都未读入；"
            "请补上引号（或删去多余的引号）后重新报送这些行"
        )
    separator = "制表符" if delimiter == "\t" else "逗号"
    return (
        f"第{row}行有{actual}列，而表头有{expected}列：该行某个单元格中可能有未加引号的{separator}或换行，"
        "或引号没有成对出现；该行未读入，请修正后重新报送该行"
    )
