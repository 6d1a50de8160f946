//! Page texts in Korean (default) and English. One table, looked up by key from templates.

use jikimi_policy::Lang;

/// The texts of one language, for templates: `{{ t.s("login") }}`.
#[derive(Debug, Clone, Copy)]
pub struct T(pub Lang);

impl T {
    pub fn code(&self) -> &'static str {
        match self.0 {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    pub fn other_code(&self) -> &'static str {
        match self.0 {
            Lang::Ko => "en",
            Lang::En => "ko",
        }
    }

    pub fn other_label(&self) -> &'static str {
        match self.0 {
            Lang::Ko => "English",
            Lang::En => "한국어",
        }
    }

    pub fn s(&self, key: &str) -> &'static str {
        let (ko, en) = text(key);
        match self.0 {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }
}

fn text(key: &str) -> (&'static str, &'static str) {
    match key {
        "site" => ("지킴이", "jikimi"),
        "not_found_title" => ("페이지를 찾을 수 없습니다", "Page not found"),
        "not_found_body" => (
            "주소가 바뀌었거나 없는 페이지입니다. 주소를 확인하시거나 처음 화면에서 다시 찾아 주세요.",
            "The address changed or the page does not exist. Check the address or start again from the home page.",
        ),
        "not_allowed_title" => (
            "이 방법으로 열 수 없는 주소입니다",
            "This address cannot be opened this way",
        ),
        "not_allowed_body" => (
            "양식을 보내는 주소를 직접 열었거나, 이전 화면으로 돌아와 다시 열었습니다. 처음 화면에서 다시 시작해 주세요.",
            "This address takes a form, not a visit. Please start again from the home page.",
        ),
        "member_since" => ("가입일시", "Joined"),
        "withdrawn_at" => ("탈퇴일시", "Left"),
        "printed_at" => ("출력일시", "Printed"),
        "print_title" => ("내 개인정보 (인쇄용)", "My personal data (printable)"),
        "withdrawn_body" => (
            "회원님의 정보를 잠근 열쇠를 없앴으므로, 백업을 포함한 어떤 사본에서도 다시 읽을 수 없습니다. 탈퇴 일시:",
            "The key that locked your data is destroyed, so no copy of it, backups included, can be read again. Left at",
        ),
        "receipt_copy" => (
            "번호를 길게 눌러 복사하거나, 이 화면을 인쇄(Ctrl+P)해 두세요.",
            "Select the number to copy it, or print this page (Ctrl+P).",
        ),
        "receipt_gone" => (
            "탈퇴 확인번호는 탈퇴한 직후에만 보여 드립니다. 적어 두신 번호가 있으면 보관 정보 조회에서 쓸 수 있습니다.",
            "The withdrawal receipt is shown only right after leaving. If you noted it, you can use it to see what is kept.",
        ),
        "retained_intro" => (
            "탈퇴할 때 받은 탈퇴 확인번호로, 법에 따라 보관 중인 기록과 그 보관 기한을 볼 수 있습니다.",
            "With the receipt you got when leaving, you can see the records kept by law and until when.",
        ),
        "receipt_help" => (
            "예: JKM-ABCD-EFGH-JKLM-NPQR",
            "For example JKM-ABCD-EFGH-JKLM-NPQR",
        ),
        "receipt_unknown" => (
            "이 확인번호로 보관 중인 기록이 없습니다. 번호를 다시 확인해 주세요. 보관 기한이 지난 기록은 이미 파기했습니다.",
            "No record is kept under this receipt. Check the number; records past their period are already destroyed.",
        ),
        "lookup_again" => ("다른 번호로 조회", "Look up another receipt"),
        "kept_until" => ("보관 기한", "Kept until"),
        "kept_until_note" => (
            "까지 보관하고 그다음 날 파기합니다.",
            "(destroyed the day after)",
        ),
        "kept_copies" => ("함께 보관하는 항목", "Items kept with it"),
        "withdraw_kept_body" => (
            "아래 기록은 법이 정한 기간 동안만 따로 잠가 보관하고, 기간이 지나면 파기합니다. 그 밖의 목적으로는 쓰지 않습니다.",
            "These records are kept locked apart, only for the period the law sets, then destroyed; they are used for nothing else.",
        ),
        "withdraw_consent_hint" => (
            "탈퇴하지 않고 선택 동의만 철회하려면",
            "To withdraw an optional consent without leaving, go to",
        ),
        "version_state" => ("구분", "Status"),
        "version_current" => ("현재 적용 중", "In force"),
        "version_past" => ("이전 판", "Earlier version"),
        "version_announced" => ("시행 예정", "Announced"),
        "announced_before" => (
            "다음 개인정보 처리방침이 ",
            "The next privacy policy takes effect on ",
        ),
        "announced_after" => ("부터 시행됩니다.", "."),
        "announced_read" => ("미리 보기", "Read it"),
        "announced_change" => ("바뀌는 내용:", "What changes:"),
        "announced_disadvantage" => (
            "회원에게 불리할 수 있는 변경이어서 시행 30일 전부터 알려 드립니다. 회원께는 전자우편으로도 알려 드렸습니다.",
            "The change may be to members' disadvantage, so it is announced 30 days ahead. Members were also told by e-mail.",
        ),
        "home" => ("처음으로", "Home"),
        "signup" => ("회원가입", "Join"),
        "login" => ("로그인", "Log in"),
        "logout" => ("로그아웃", "Log out"),
        "mypage" => ("개인정보수정", "My data"),
        "privacy" => ("개인정보 처리방침", "Privacy policy"),
        "withdraw_link" => ("동의철회 또는 회원탈퇴", "Withdraw consent or leave"),
        "retained_link" => ("탈퇴 후 보관 정보 조회", "What is kept after leaving"),
        "login_id" => ("아이디", "Login ID"),
        "password" => ("비밀번호", "Password"),
        "password_confirm" => ("비밀번호 확인", "Confirm password"),
        "required" => ("필수", "required"),
        "optional" => ("선택", "optional"),
        "submit_signup" => ("가입하기", "Join"),
        "next" => ("다음", "Next"),
        "save" => ("저장", "Save"),
        "cancel" => ("취소", "Cancel"),
        "errors_title" => ("입력값을 확인해 주세요", "Please check the input"),
        "home_intro" => (
            "회원의 개인정보를 개인정보 처리방침에 적힌 그대로 다루고, 그 사실을 증명합니다. 회원의 정보는 회원마다 다른 열쇠로 잠가 두고, 탈퇴하면 그 열쇠를 없앱니다.",
            "We handle members' personal data exactly as our privacy policy says, and can prove it. Each member's data is locked with the member's own key, and leaving destroys that key.",
        ),
        "notice_title" => (
            "회원가입을 위해 처리하는 정보 (안내)",
            "Data processed to provide membership (notice)",
        ),
        "notice_body" => (
            "아래 항목은 회원 계약을 맺고 이행하는 데 꼭 필요하여 동의 없이 처리합니다 (개인정보 보호법 제15조제1항제4호). 처리 목적, 항목, 보유 기간은 다음과 같습니다.",
            "The items below are needed to conclude and perform the membership contract, so they are processed without consent (PIPA Art. 15(1)4). Purposes, items and retention:",
        ),
        "consents_title" => ("선택 동의", "Optional consents"),
        "consents_body" => (
            "각 항목에 따로 동의하거나 동의하지 않을 수 있습니다. 동의하지 않아도 회원가입과 기본 서비스 이용에는 아무 제한이 없습니다.",
            "You may agree or not to each one separately. Not agreeing never limits joining or the basic service.",
        ),
        "purpose" => ("목적", "Purpose"),
        "items" => ("항목", "Items"),
        "retention" => ("보유 기간", "Retention"),
        "refusal" => ("동의를 거부할 권리", "Your right to refuse"),
        "recipient" => ("제공받는 자", "Recipient"),
        "agree" => ("동의합니다", "I agree"),
        "agree_seed" => ("동의함", "I agree"),
        "disagree_seed" => ("동의하지 않음", "I do not agree"),
        "seed_agree_intro" => (
            "회원가입을 하려면 아래 개인정보 처리방침을 읽고 동의 여부를 선택해 주세요. '동의하지 않음'을 누르면 가입이 끝나며 아무 정보도 저장하지 않습니다.",
            "To join, read the privacy policy below and choose. 'I do not agree' ends sign-up and stores nothing.",
        ),
        "declined_title" => ("가입을 마치지 않았습니다", "Sign-up ended"),
        "declined_body" => (
            "개인정보 처리방침에 동의하지 않아 가입을 마치지 않았습니다. 입력하신 정보는 하나도 저장하지 않았습니다.",
            "You did not agree to the privacy policy, so sign-up ended. Nothing you entered was stored.",
        ),
        "identity_title" => ("본인확인", "Identity verification"),
        "identity_body" => (
            "휴대폰 본인확인으로 만 14세 이상인지와 이미 가입했는지를 확인합니다. 본인확인기관이 확인해 알려 주는 성명·생년월일·휴대폰 번호·연계정보(CI)·중복가입확인정보(DI)만 받으며, 주민등록번호는 받지 않습니다.",
            "Mobile identity verification checks that you are 14 or older and not already a member. Only the name, date of birth, mobile number, connecting information (CI) and duplicate-joining information (DI) that the verification provider confirms are received; no resident registration number.",
        ),
        "name" => ("성명", "Name"),
        "birth_date" => ("생년월일", "Date of birth"),
        "mobile" => ("휴대폰 번호", "Mobile number"),
        "carrier" => ("통신사", "Carrier"),
        "mvno" => ("알뜰폰", "MVNO (budget carrier)"),
        "birth_rule" => (
            "8자리 숫자로 입력해 주세요 (예: 19900101).",
            "8 digits: year, month, day (e.g. 19900101).",
        ),
        "back_to_consents" => ("동의 선택으로 돌아가기", "Back to the consents"),
        "resend_code" => ("인증번호 다시 받기", "Send a new code"),
        "code_expired" => (
            "인증번호를 여러 번 잘못 입력했거나 입력 시간이 지났습니다. 인증번호를 다시 받아 주세요. 고르신 동의는 그대로 있습니다.",
            "The code was entered wrongly too often, or too late. Please ask for a new code; the consents you chose are kept.",
        ),
        "identity_expired" => (
            "본인확인 후 시간이 너무 지났습니다. 본인확인을 다시 해 주세요. 고르신 동의는 그대로 있습니다.",
            "Too much time passed since the verification. Please verify again; the consents you chose are kept.",
        ),
        "check_id" => ("중복확인", "Check"),
        "id_available" => (
            "사용할 수 있는 아이디입니다.",
            "This login ID is available.",
        ),
        "rrn_front" => ("앞 6자리", "first 6 digits"),
        "rrn_back" => ("뒤 7자리", "last 7 digits"),
        "rrn_retype" => (
            "주민등록번호는 화면에 다시 보여 드리지 않으므로, 입력값을 확인해 달라는 안내가 나오면 다시 입력해 주세요.",
            "The number is never shown again on screen: if the form asks you to check a value, type it again.",
        ),
        "login_reason_withdraw" => (
            "동의철회와 회원탈퇴는 회원 본인만 할 수 있어 로그인이 필요합니다. 로그인하면 바로 그 화면으로 이동합니다.",
            "Only the member can withdraw a consent or leave, so please log in first. You will go straight there after logging in.",
        ),
        "login_reason_mypage" => (
            "회원 본인의 정보를 보여 드리는 화면이라 로그인이 필요합니다.",
            "This page shows a member's own data, so please log in first.",
        ),
        "send_code" => ("인증번호 받기", "Send code"),
        "code" => ("인증번호", "Verification code"),
        "code_sent" => (
            "휴대폰으로 보낸 6자리 인증번호를 3분 안에 입력해 주세요.",
            "Enter the 6-digit code sent to your phone within 3 minutes.",
        ),
        "verify" => ("확인", "Verify"),
        "sandbox_note" => (
            "개발용 본인확인(샌드박스)입니다. 보낸 문자는 여기에서 볼 수 있습니다:",
            "This is the development (sandbox) verification. Its text messages can be seen here:",
        ),
        "form_title" => ("회원 정보 입력", "Your details"),
        "guardian_title" => (
            "만 14세 미만은 법정대리인 동의가 필요합니다",
            "Under 14: a legal guardian's consent is needed",
        ),
        "guardian_body" => (
            "만 14세 미만 아동은 법정대리인의 동의를 받아야 가입할 수 있습니다. 법정대리인 동의 절차는 아직 준비 중이라 지금은 가입할 수 없습니다. 입력하신 정보는 저장하지 않았습니다.",
            "Children under 14 may join only with a legal guardian's consent. The guardian process is not available yet, so joining is not possible now. Nothing you entered was stored.",
        ),
        // A child and their guardian (issue 16). The child's pages speak plainly (R-CHD-05).
        "gd_ask_title" => (
            "만 14세가 안 된 어린이는 보호자의 동의가 필요해요",
            "Under 14? You need your parent's or guardian's OK",
        ),
        "gd_ask_body" => (
            "14살이 안 되었다면 엄마, 아빠 같은 보호자(법정대리인)가 먼저 동의해야 가입할 수 있어요. 지금까지 입력한 것은 저장하지 않았어요.",
            "If you are under 14, a parent or guardian has to say yes before you can join. Nothing you typed so far was kept.",
        ),
        "gd_ask_what" => (
            "아래에 내 이름과 보호자의 이름, 연락처만 적어 주세요. 보호자에게 알림을 보내요. 보호자가 5일 안에 동의하지 않으면 적은 내용은 모두 지워져요.",
            "Write only your name and your parent's or guardian's name and contact below. We send them a message. If they do not say yes within 5 days, everything you wrote here is deleted.",
        ),
        "gd_ask_send" => ("보호자에게 동의 요청 보내기", "Ask my parent or guardian"),
        "gd_ask_stop" => ("그만두기", "Stop"),
        "gd_ask_again" => ("다시 요청하기", "Ask again"),
        "gd_wait_title" => ("보호자에게 알렸어요", "We told your parent or guardian"),
        "gd_wait_body" => (
            "보호자가 알림에 있는 주소에서 동의하면 이 화면에서 가입을 이어서 할 수 있어요. 조금 뒤에 다시 확인해 주세요.",
            "When they say yes at the address in our message, you can go on joining from this page. Check again a little later.",
        ),
        "gd_wait_until" => (
            "요청은 {until}까지 기다려요.",
            "The request waits until {until}.",
        ),
        "gd_check_again" => ("다시 확인하기", "Check again"),
        "gd_consented_title" => ("보호자가 동의했어요", "Your parent or guardian said yes"),
        "gd_consented_body" => (
            "이제 가입을 이어서 할 수 있어요. 보호자가 고른 동의 내용이 그대로 적용돼요.",
            "You can go on joining now. The choices your parent or guardian made apply.",
        ),
        "gd_continue" => ("가입 계속하기", "Go on joining"),
        "gd_child_gone_title" => (
            "보호자 동의 요청이 끝났어요",
            "The request to your parent or guardian has ended",
        ),
        "gd_child_gone_body" => (
            "보호자가 거절했거나 5일이 지났어요. 요청과 함께 적은 내용은 모두 지웠어요. 다시 요청할 수 있어요.",
            "They said no, or 5 days passed. Everything written with the request was deleted. You can ask again.",
        ),
        "gd_title" => ("법정대리인 동의", "A guardian's consent"),
        "gd_intro" => (
            "{child} 님이 회원 가입에 법정대리인 동의를 요청했습니다. 만 14세 미만 아동은 법정대리인이 동의해야 가입할 수 있습니다(「개인정보 보호법」 제22조의2). 아동의 법정대리인이시면 아래 내용을 읽고 동의하거나 거부해 주세요.",
            "{child} asked for a legal guardian's consent to join. A child under 14 may join only with a guardian's consent (PIPA Art. 22-2). If you are the child's legal guardian, read what follows and consent or refuse.",
        ),
        "gd_until" => (
            "{until}까지 동의하지 않으면 이 요청과 함께 받은 이름과 연락처는 모두 파기됩니다.",
            "Without your consent by {until}, this request and the names and contact given with it are destroyed.",
        ),
        "gd_identity_title" => ("법정대리인 본인확인", "Verifying the guardian"),
        "gd_identity_body" => (
            "법정대리인이 실제로 동의하는지 확인하기 위해 법정대리인 본인의 휴대폰으로 본인확인을 합니다. 만 19세 이상 성인만 동의할 수 있습니다. 본인확인기관이 알려 주는 성명과 중복가입확인정보(DI)를 동의 기록으로 보관합니다.",
            "To check that it really is the guardian who consents, verify with the guardian's own mobile phone. Only an adult (19 or over) can consent. The name and duplicate-check value (DI) the verification service returns are kept as the record of the consent.",
        ),
        "gd_identity_start" => ("본인확인 하기", "Verify"),
        "gd_back" => ("동의 요청으로 돌아가기", "Back to the request"),
        "gd_verified" => (
            "본인확인을 마쳤습니다. 아래 내용을 읽고 동의 여부를 정해 주세요.",
            "Verified. Read what follows and decide.",
        ),
        "gd_seed_intro" => (
            "아래 개인정보 처리방침 전체를 읽고 아동의 회원 가입에 동의하는지 정해 주세요.",
            "Read the whole privacy policy below and decide whether you consent to the child joining.",
        ),
        "gd_method" => (
            "동의 확인 방법: {method}. 동의한 방법과 시각을 기록합니다.",
            "How your consent is verified: {method}. The method and time are recorded.",
        ),
        "gd_m_mobile_identity" => (
            "법정대리인의 휴대폰 본인확인",
            "the guardian's mobile identity verification",
        ),
        "gd_m_email_link" => (
            "법정대리인의 전자우편으로 보낸 주소",
            "the address e-mailed to the guardian",
        ),
        "gd_m_sms_link" => (
            "법정대리인의 휴대전화로 보낸 주소",
            "the address texted to the guardian",
        ),
        "gd_agree" => ("동의합니다", "I consent"),
        "gd_refuse" => ("동의하지 않습니다", "I refuse"),
        "gd_refused_title" => ("동의하지 않으셨습니다", "You refused"),
        "gd_refused_body" => (
            "아동은 가입하지 않으며, 이 요청과 함께 받은 이름과 연락처는 방금 모두 파기했습니다.",
            "The child does not join, and the request with the names and contact given with it has just been destroyed.",
        ),
        "gd_thanks_title" => ("동의해 주셔서 감사합니다", "Thank you for consenting"),
        "gd_thanks_body" => (
            "아동이 가입을 신청한 기기에서 요청일부터 5일 안에 가입을 마칠 수 있습니다. 가입한 뒤에도 법정대리인은 아동의 개인정보를 열람·정정하거나 동의를 철회할 수 있습니다.",
            "The child can finish joining on the device they asked from, within 5 days of the request. After that too, you may view or correct the child's personal data or withdraw consent.",
        ),
        "gd_gone_title" => (
            "이 주소는 더 이상 쓸 수 없습니다",
            "This address no longer works",
        ),
        "gd_gone_body" => (
            "동의를 요청한 지 5일이 지났거나, 이미 거부했거나, 주소가 잘못되었습니다. 요청이 끝나면 함께 받은 정보는 모두 파기됩니다.",
            "Five days passed since the request, it was refused, or the address is wrong. When a request ends, what was given with it is destroyed.",
        ),
        "gd_my_page" => (
            "보호자(법정대리인)가 {when}에 가입에 동의했습니다 (확인 방법: {method}).",
            "Your guardian consented to your joining on {when} (verified by {method}).",
        ),
        "gd_now_14" => (
            "이제 만 14세가 되어 동의를 직접 하거나 철회할 수 있어요. 법정대리인 화면은 더 이상 쓸 수 없고, 그동안의 정보와 동의는 그대로예요.",
            "You are 14 now, so you give and withdraw consents yourself. The guardian's page no longer works for you; your data and consents stay as they are.",
        ),
        "gd_child_consent" => (
            "만 14세가 될 때까지는 보호자(법정대리인)가 동의해야 해요. 동의를 철회하는 것은 직접 할 수 있어요. 아무것도 바꾸지 않았어요.",
            "Until you are 14, your parent or guardian has to give consents. You can withdraw one yourself. Nothing was changed.",
        ),
        "gc_title" => (
            "법정대리인: 자녀 회원 관리",
            "Guardian: your child's membership",
        ),
        "gc_intro" => (
            "만 14세 미만 자녀가 법정대리인의 동의로 가입했다면, 동의한 법정대리인은 자녀의 개인정보를 열람·정정하고, 동의를 하거나 철회하고, 회원탈퇴를 할 수 있습니다(「개인정보 보호법」 제22조의2, 제35조~제38조). 동의할 때와 같은 방법으로 다시 확인합니다.",
            "If your child under 14 joined with your consent as their legal guardian, you can view and correct the child's personal data, give or withdraw consents and end the membership (PIPA Art. 22-2, 35-38). You are verified again the way you were when you consented.",
        ),
        "gc_identity_first" => (
            "먼저 법정대리인 본인의 휴대폰으로 본인확인을 해 주세요. 동의할 때 본인확인한 사람과 같아야 합니다.",
            "First verify with your own mobile phone. It must be the person who verified when consenting.",
        ),
        "gc_verified" => (
            "본인확인을 마쳤습니다. 자녀의 아이디를 입력해 주세요.",
            "Verified. Enter your child's login ID.",
        ),
        "gc_child_login" => ("자녀의 아이디", "Your child's login ID"),
        "gc_your_email" => (
            "동의할 때 쓴 법정대리인 전자우편 주소",
            "The e-mail address you consented through",
        ),
        "gc_open" => ("확인", "Continue"),
        "gc_sent" => (
            "입력하신 주소가 이 아이디의 법정대리인 주소이면, 30분 동안 한 번 쓸 수 있는 주소를 보냈습니다. 전자우편을 확인해 주세요.",
            "If that is the guardian's address for this login ID, a link that works once for 30 minutes has been sent. Check your e-mail.",
        ),
        "gc_link_gone" => (
            "이 주소는 이미 썼거나 30분이 지났습니다. 다시 요청해 주세요.",
            "This address was already used or 30 minutes passed. Ask again.",
        ),
        "gc_back" => (
            "법정대리인 화면으로 돌아가기",
            "Back to the guardian's page",
        ),
        "gc_acting" => (
            "법정대리인으로서 자녀 회원의 정보를 보고 있습니다. 여기서 하는 일은 모두 법정대리인이 한 일로 기록됩니다. 이 화면은 30분 동안 쓸 수 있습니다.",
            "You are acting as the legal guardian of your child's membership. Everything done here is recorded as done by the guardian. This page works for 30 minutes.",
        ),
        "gc_correct" => ("정보 정정", "Correct the data"),
        "gc_items" => ("자녀의 개인정보", "Your child's personal data"),
        "gc_link_intro" => (
            "전자우편으로 받은 법정대리인 확인 주소입니다. 아래 단추를 누르면 이 주소를 쓰고 자녀 회원 관리 화면으로 갑니다.",
            "This is the guardian's address you received by e-mail. Press the button to use it and go to your child's membership.",
        ),
        "gc_link_go" => ("계속하기", "Continue"),
        "gc_opened" => (
            "법정대리인으로 확인되었습니다.",
            "You are confirmed as the guardian.",
        ),
        "gc_withdraw" => ("자녀 회원탈퇴", "End your child's membership"),
        "gc_withdraw_body" => (
            "탈퇴하면 자녀의 개인정보는 바로 파기되고 되돌릴 수 없습니다. 법령에 따라 보관해야 하는 기록은 그 기간 동안만 보관합니다.",
            "Ending the membership destroys the child's personal data at once; it cannot be undone. Records the law requires are kept for their period only.",
        ),
        "gc_withdraw_confirm" => (
            "자녀의 회원탈퇴를 확인합니다",
            "I confirm ending my child's membership",
        ),
        "gc_withdrawn_title" => (
            "자녀의 회원탈퇴를 마쳤습니다",
            "Your child's membership has ended",
        ),
        "gc_withdrawn_body" => (
            "자녀의 개인정보를 파기했습니다. 아래 접수번호로 탈퇴 후에도 보관하는 기록을 조회할 수 있습니다. 이 번호는 다시 보여 드리지 않으니 적어 두세요.",
            "The child's personal data has been destroyed. With the receipt number below you can look up the records kept after leaving. It is not shown again: write it down.",
        ),
        "gc_receipt" => ("접수번호:", "Receipt number:"),
        "gc_retained" => ("탈퇴 후 보관 정보 조회", "Records kept after leaving"),
        "gc_leave" => ("법정대리인 화면 나가기", "Leave the guardian's page"),
        "gd_done_title" => ("이미 동의하셨습니다", "You have already consented"),
        "gd_done_body" => (
            "이 요청에는 이미 동의하셨습니다. 아동이 가입을 마칠 수 있습니다.",
            "You have already consented to this request. The child can finish joining.",
        ),
        "already_title" => ("이미 가입한 회원입니다", "Already a member"),
        "already_body" => (
            "이미 가입한 계정이 있습니다. 아이디:",
            "You already have an account. Login ID:",
        ),
        "joined_title" => ("가입을 마쳤습니다", "Welcome"),
        "joined_body" => (
            "가입을 마쳤습니다. 로그인해 주세요.",
            "You have joined. Please log in.",
        ),
        "login_failed" => (
            "아이디 또는 비밀번호가 맞지 않습니다.",
            "Wrong login ID or password.",
        ),
        "login_locked" => (
            "비밀번호를 여러 번 잘못 입력하여 잠시 로그인할 수 없습니다. 다시 시도할 수 있는 때:",
            "Too many wrong passwords: logging in is paused. You can try again in",
        ),
        "minutes_later" => ("분 뒤", "minutes"),
        "limited_title" => ("요청이 너무 많습니다", "Too many requests"),
        "limited_again" => (
            "{n}분 뒤에 다시 시도해 주세요.",
            "Please try again in {n} minutes.",
        ),
        "limited_sign_up" => (
            "이 곳에서 가입 시도가 너무 많았습니다.",
            "There were too many sign-up attempts from here.",
        ),
        "limited_login_id_check" => (
            "이 곳에서 아이디 중복확인 요청이 너무 많았습니다.",
            "There were too many login ID checks from here.",
        ),
        "limited_identity_request" => (
            "인증번호 문자를 너무 많이 요청했습니다. 문자는 같은 휴대폰 번호로 1시간에 5번까지 보냅니다.",
            "Too many verification text messages were requested. A mobile number gets at most 5 an hour.",
        ),
        "limited_identity_confirm" => (
            "인증번호를 너무 많이 입력했습니다.",
            "Too many verification codes were entered.",
        ),
        "limited_login" => (
            "이 곳에서 로그인 시도가 너무 많았습니다.",
            "There were too many login attempts from here.",
        ),
        "limited_login_account" => (
            "이 아이디로 여러 곳에서 로그인에 실패해, 아이디를 지키려고 잠시 로그인을 막았습니다.",
            "This login ID saw many failed logins from several places, so logging in to it is paused to protect it.",
        ),
        "limited_login_identity" => (
            "본인확인을 하면 지금 바로 로그인할 수 있습니다.",
            "Verify your identity (본인확인) to log in right away.",
        ),
        "recover_with_identity" => ("본인확인하고 로그인하기", "Verify your identity to log in"),
        "recover_body" => (
            "다른 곳에서 이 아이디로 로그인에 실패한 일이 많아, 본인확인을 한 회원만 로그인할 수 있습니다. 가입할 때 본인확인한 휴대폰으로 인증번호를 받아 주세요. 본인확인 결과는 이 로그인에만 씁니다.",
            "After many failed logins to this login ID from elsewhere, only the member who verifies their identity can log in. Receive a code on the mobile phone you verified when joining. The result is used for this login only.",
        ),
        "back_to_login" => ("로그인으로 돌아가기", "Back to login"),
        "recover_verified" => (
            "본인확인을 마쳤습니다. 아이디와 비밀번호를 입력해 로그인해 주세요 (10분 안에).",
            "Your identity is verified. Enter your login ID and password to log in (within 10 minutes).",
        ),
        "recover_code_expired" => (
            "인증번호를 여러 번 잘못 입력했거나 입력 시간이 지났습니다. 인증번호를 다시 받아 주세요.",
            "The code was entered wrongly too often, or too late. Please ask for a new code.",
        ),
        "recover_not_member" => (
            "본인확인한 분이 이 아이디의 회원이 아닙니다. 아이디를 확인하시거나, 회원 본인이 본인확인을 해 주세요.",
            "The person verified is not the member of this login ID. Check the login ID, or have the member verify.",
        ),
        "window_body" => (
            "휴대폰 본인확인은 본인확인기관의 창에서 합니다. 아래 단추를 누르면 그 창으로 가고, 확인을 마치면 이 사이트로 돌아옵니다. 그 창에 입력하는 성명·생년월일·휴대폰 번호는 본인확인기관이 받아 확인합니다.",
            "Mobile identity verification happens in the verification provider's window. The button below takes you there, and you come back here when it is done. The name, date of birth and mobile number you enter there go to the verification provider, which checks them.",
        ),
        "start_window" => ("휴대폰 본인확인 시작", "Start mobile verification"),
        "window_opening" => (
            "본인확인기관의 창을 여는 중입니다. 창이 열리지 않으면 아래 단추를 눌러 주세요.",
            "Opening the verification provider's window. If it does not open, press the button below.",
        ),
        "open_window" => ("본인확인 창 열기", "Open the verification window"),
        "window_restart" => ("처음부터 다시 하기", "Start again"),
        "window_noscript" => (
            "본인확인기관의 창은 브라우저의 JavaScript로 열립니다. 이 단계에서만 JavaScript를 켜 주세요. 이 사이트의 다른 화면은 JavaScript 없이 쓸 수 있습니다.",
            "The verification provider's window opens with JavaScript. Please turn JavaScript on for this step; every other page of this site works without it.",
        ),
        "window_not_done" => (
            "본인확인을 마치지 않았습니다 (창에서 취소했거나 확인에 실패했습니다). 다시 해 주세요.",
            "The verification was not completed (it was cancelled or failed in the window). Please try again.",
        ),
        "identity_expired_plain" => (
            "본인확인 요청의 시간이 지났습니다. 본인확인을 다시 해 주세요.",
            "The verification request expired. Please verify again.",
        ),
        "provider_unavailable" => (
            "본인확인기관에 지금 연결할 수 없습니다. 잠시 후 다시 해 주세요.",
            "The verification provider cannot be reached now. Please try again shortly.",
        ),
        "od_title" => ("결제와 주문 내역", "Payments and orders"),
        "od_products" => ("유료 서비스", "Paid services"),
        "od_intro" => (
            "구매를 누르면 주문을 만들고 결제대행사(PortOne)의 결제창으로 갑니다. 카드번호 등 결제 정보는 결제창에서 결제대행사와 카드사가 받으며, 이 사이트는 결제대행사가 알려 주는 결과(카드사, 일부를 가린 카드번호, 할부 개월, 금액, 일시)만 보관합니다.",
            "Buy makes the order and takes you to the payment company's (PortOne's) payment window. The card number and other payment details are entered there and go to the payment company and the card company; this site keeps only the result they report (the card company, the card number with most digits hidden, instalments, amount and time).",
        ),
        "od_buy" => ("구매", "Buy"),
        "od_mine" => ("주문 내역", "Your orders"),
        "od_none" => ("주문 내역이 없습니다.", "No orders yet."),
        "od_at" => ("주문 일시", "Ordered"),
        "od_product" => ("상품", "Product"),
        "od_amount" => ("금액", "Amount"),
        "od_state" => ("상태", "State"),
        "od_pending" => ("결제 전", "Not paid"),
        "od_paid" => ("결제 완료", "Paid"),
        "od_refused" => (
            "결제 취소됨 (금액 불일치)",
            "Cancelled (amount did not match)",
        ),
        "od_failed" => ("결제 안 됨", "Not paid (failed or cancelled)"),
        "od_cancelled" => ("환불 완료", "Refunded"),
        "od_partly_cancelled" => ("일부 환불", "Partly refunded"),
        "od_unknown" => ("확인 중", "Being checked"),
        "od_refunded" => ("환불", "refunded"),
        "od_pay_now" => ("결제하기", "Pay now"),
        "od_records" => (
            "대금결제 기록은 전자상거래 등에서의 소비자보호에 관한 법률에 따라 {period} 동안 보관하며, 탈퇴한 뒤에도 그 기간이 끝날 때까지 따로 보관합니다.",
            "Payment records are kept for {period} under the Act on the Consumer Protection in Electronic Commerce, also after you leave, separately, until that period ends.",
        ),
        "od_pay_title" => ("결제", "Payment"),
        "od_window" => (
            "결제대행사의 결제창을 여는 중입니다. 창이 열리지 않으면 아래 단추를 눌러 주세요.",
            "Opening the payment company's window. If it does not open, press the button below.",
        ),
        "od_open_window" => ("결제창 열기", "Open the payment window"),
        "od_back" => ("주문 내역으로 돌아가기", "Back to your orders"),
        "od_done" => ("결제를 마쳤습니다.", "The payment is complete."),
        "od_not_done" => (
            "결제를 마치지 않았습니다 (결제창에서 취소했거나 결제에 실패했습니다). 주문 내역에서 다시 결제할 수 있습니다.",
            "The payment was not completed (it was cancelled or failed in the window). You can pay again from your orders.",
        ),
        "od_refused_notice" => (
            "결제된 금액이 주문 금액과 달라 결제를 바로 취소했습니다. 다시 주문해 주세요.",
            "The amount paid differed from the order's, so the payment was cancelled at once. Please order again.",
        ),
        "od_provider_unavailable" => (
            "결제대행사에 지금 연결할 수 없어 결제 결과를 확인하지 못했습니다. 잠시 후 주문 내역을 다시 열어 주세요.",
            "The payment company cannot be reached now, so the result could not be checked. Please open your orders again shortly.",
        ),
        "od_link" => ("결제와 주문 내역", "Payments and orders"),
        "od_withdraw" => ("청약철회 (전액 환불)", "Withdraw the order (full refund)"),
        "od_withdraw_until" => ("{date}까지", "until {date}"),
        "od_withdrawn" => (
            "청약을 철회했습니다. 결제하신 금액을 모두 환불했습니다 (카드사에 따라 며칠 걸릴 수 있습니다).",
            "The order was withdrawn and the whole payment refunded (your card company may take a few days).",
        ),
        "od_not_withdrawable" => (
            "결제한 날부터 7일이 지났거나 일부를 이미 환불한 주문은 여기서 철회할 수 없습니다. '권리 행사 요청'이나 고객센터로 알려 주세요.",
            "An order paid more than 7 days ago, or partly refunded already, cannot be withdrawn here. Please ask through 'Requests' or the customer centre.",
        ),
        "pr_event" => ("기록", "Record"),
        "pr_paid" => ("결제", "Payment"),
        "pr_refunded" => ("환불", "Refund"),
        "pr_order" => ("주문번호", "Order number"),
        "pr_at" => ("일시", "Time"),
        "pr_card" => ("카드사", "Card company"),
        "pr_card_number" => ("카드번호 (일부 가림)", "Card number (partly hidden)"),
        "pr_bank" => ("은행", "Bank"),
        "pr_reason" => ("사유", "Reason"),
        "pr_installment" => ("할부 개월", "Instalments (months)"),
        "pr_lump_sum" => ("일시불", "Paid in full"),
        "ad_title" => ("광고 발송", "Advertising"),
        "ad_intro" => (
            "마케팅 목적 이용 동의와 그 경로의 광고 수신 동의를 모두 한 회원에게만 보냅니다. 밤 9시부터 다음 날 아침 8시 사이에는 보내지 않으며(그때 만든 광고는 아침 8시에 나갑니다), 모든 광고 앞에 (광고)를 붙이고 보낸 곳과 연락처, 로그인 없이 한 번에 거부하는 방법을 함께 적습니다(「정보통신망법」 제50조).",
            "Sent only to members who gave both the consent to use their data for marketing and the channel's ad-reception consent. Nothing goes between 21:00 and 08:00 (made then, it goes at 08:00); every message starts with (광고) and names the sender, its contact and a one-step refusal that needs no login (Network Act Art. 50).",
        ),
        "ad_new" => ("새 광고", "New advertisement"),
        "ad_channel" => ("보낼 경로", "Channel"),
        "ad_email" => ("전자우편", "E-mail"),
        "ad_sms" => ("문자메시지", "Text message"),
        "ad_members" => ("명에게 보낼 수 있음", " members reachable"),
        "ad_subject" => ("제목", "Subject"),
        "ad_subject_hint" => (
            "전자우편만 씁니다. 앞에 (광고)가 붙습니다.",
            "E-mail only; (광고) is put in front.",
        ),
        "ad_body" => ("내용", "Message"),
        "ad_body_hint" => (
            "보낸 곳, 연락처, 수신 거부 방법은 자동으로 붙습니다. 회원의 개인정보를 적지 마세요.",
            "The sender, its contact and the way to refuse are added. Do not write members' personal data here.",
        ),
        "ad_send" => ("보내기", "Send"),
        "ad_pick_channel" => ("보낼 경로를 골라 주세요", "choose a channel"),
        "ad_made" => (
            "광고를 만들었습니다. {at}부터 동의한 회원에게 보냅니다.",
            "The advertisement is made; it goes to consenting members from {at}.",
        ),
        "ad_campaigns" => ("보낸 광고", "Advertisements"),
        "ad_made_at" => ("만든 때", "Made"),
        "ad_starts" => ("발송 시작", "Starts"),
        "ad_sent_to" => ("발송 대상 회원 수", "Members sent to"),
        "ar_title" => ("광고 수신 거부", "Refuse advertising"),
        "ar_ask" => (
            "{what}를 더 받지 않으려면 아래 버튼을 눌러 주세요. 로그인하지 않아도 되며 비용이 들지 않습니다.",
            "To receive no more {what}, press the button below. No login is needed and it costs nothing.",
        ),
        "ar_email" => ("전자우편 광고", "advertising by e-mail"),
        "ar_sms" => ("문자메시지 광고", "advertising by text message"),
        "ar_button" => ("수신 거부", "Refuse"),
        "ar_free" => (
            "거부한 뒤에도 서비스 이용에는 아무런 제한이 없고, 마이페이지에서 언제든 다시 동의할 수 있습니다.",
            "Refusing does not limit the service in any way, and you can agree again on My page at any time.",
        ),
        "ar_done_title" => ("광고 수신을 거부했습니다", "Advertising refused"),
        "ar_done" => (
            "앞으로 {what}를 보내지 않습니다.",
            "We will send you no more {what}.",
        ),
        "ar_result_mailed" => (
            "처리 결과는 전자우편으로도 알려 드립니다.",
            "The result is also sent to you by e-mail.",
        ),
        "ar_invalid_title" => ("링크를 확인할 수 없습니다", "This link cannot be used"),
        "ar_invalid" => (
            "링크가 잘렸거나 기한(2년)이 지났습니다. 로그인한 뒤 마이페이지의 동의 현황에서 광고 수신 동의를 철회할 수 있습니다.",
            "The link is cut short or older than 2 years. Log in and withdraw the ad-reception consent under your consents on My page.",
        ),
        "ar_to_mypage" => ("마이페이지 동의 현황", "My consents"),
        "br_title" => ("유출 사고 대장", "Breach register"),
        "br_intro" => (
            "개인정보의 분실·도난·유출(위조·변조·훼손 포함)을 알게 되었거나 그 가능성이 있으면 곧바로 여기에 기록합니다. 알게 된 때부터 72시간 안에 해당 회원 모두에게 알리고(유출 항목, 시점과 경위, 피해 최소화 방법, 대응 조치와 구제 절차, 담당 부서와 연락처), 1천 명 이상이거나 고유식별정보·민감정보가 포함되었거나 외부의 불법 접근(해킹)으로 생긴 경우에는 개인정보보호위원회 또는 한국인터넷진흥원(KISA)에 신고합니다(「개인정보 보호법」 제34조).",
            "Record here at once any loss, theft or leak of personal data (forgery, alteration and damage included), or the possibility of one. Within 72 hours of becoming aware, tell every member involved (the items, when and how, what they can do, what we do and the remedies, where to ask), and report to the PIPC or KISA when 1,000 or more people, a unique identifier or sensitive data, or unauthorised access from outside is involved (PIPA Art. 34).",
        ),
        "br_register" => ("기록된 사고", "Incidents"),
        "br_none" => ("기록된 사고가 없습니다.", "No incident recorded."),
        "br_discovered" => ("알게 된 때", "Found"),
        "br_what" => ("사고 개요", "What happened"),
        "br_state" => ("상태", "State"),
        "br_affected" => ("대상 회원 수", "Members involved"),
        "br_deadline" => ("72시간 기한", "72-hour deadline"),
        "br_notices" => ("회원 통지", "Members told"),
        "br_report" => ("위원회·KISA 신고", "Report to the PIPC/KISA"),
        "br_record" => ("사고 기록", "Record an incident"),
        "br_record_help" => (
            "대상 회원은 기록할 때 정해집니다: 모든 회원, 또는 한 계정이 일정 기간에 조회한 회원(접속 기록에서 찾습니다).",
            "The members involved are fixed when it is recorded: every member, or the members one account read in a window (found in the access log).",
        ),
        "br_state_suspected" => ("유출 의심(확인 중)", "Suspected"),
        "br_state_confirmed" => ("유출 확인", "Confirmed"),
        "br_state_closed" => ("종결", "Closed"),
        "br_discovered_at" => ("알게 된 때(한국 시각)", "Found at (KST)"),
        "br_occurred" => ("유출 시점과 경위", "When and how it happened"),
        "br_items" => ("유출된 항목", "Items involved"),
        "br_outside_attack" => (
            "외부로부터의 불법적인 접근(해킹)",
            "Unauthorised access from outside (hacking)",
        ),
        "br_cause" => ("원인", "Cause"),
        "br_measures" => ("대응 조치", "Measures taken"),
        "br_advice" => (
            "회원이 할 수 있는 피해 최소화 방법",
            "What members can do to reduce the harm",
        ),
        "br_scope" => ("대상 회원", "Members involved"),
        "br_scope_all" => ("모든 회원", "Every member"),
        "br_scope_reads" => ("한 계정이 조회한 회원", "Members one account read"),
        "br_scope_reads_is" => (
            "{actor}이(가) {from}부터 {to} 전까지 조회한 회원",
            "Members {actor} read from {from} until before {to}",
        ),
        "br_actor" => (
            "계정(접속 기록에 적힌 그대로)",
            "Account (as the access log names it)",
        ),
        "br_from" => ("조회 기간 시작(한국 시각)", "Window start (KST)"),
        "br_to" => ("조회 기간 끝(한국 시각)", "Window end (KST)"),
        "br_record_button" => ("사고 기록하기", "Record the incident"),
        "br_recorded" => (
            "사고를 기록했습니다. 72시간 안에 회원에게 알리세요.",
            "The incident is recorded. Tell the members within 72 hours.",
        ),
        "br_hours_left" => ("{n}시간 남음", "{n} hours left"),
        "br_hours_over" => ("기한이 {n}시간 지났습니다", "{n} hours overdue"),
        "br_notices_none" => ("아직 알리지 않음", "Not told yet"),
        "br_notices_progress" => (
            "{all}명 중 {sent}명 발송 · 대기 {queued} · 실패 {failed} · 연락처 없음 {none}",
            "{sent} of {all} sent · waiting {queued} · failed {failed} · no address {none}",
        ),
        "br_report_not_required" => ("신고 요건 해당 없음", "Not required"),
        "br_report_required" => ("신고 필요 — 아직 기록 없음", "Required — not recorded yet"),
        "br_report_done" => ("{at} 신고 완료", "Reported at {at}"),
        "br_because" => ("사유:", "because of"),
        "br_recorded_by" => ("기록", "Recorded"),
        "br_unreached" => (
            "전자우편으로 알리지 못한 회원이 {n}명 있습니다(주소 없음 또는 발송 실패). 통지 내용을 홈페이지에 30일 이상 게시하여 통지를 갈음하세요.",
            "{n} members were not reached by e-mail (no address, or the delivery failed): post the notice on the website for at least 30 days instead.",
        ),
        "br_post" => ("홈페이지에 게시하기", "Post on the website"),
        "br_posted_at" => (
            "{at}부터 홈페이지에 게시하고 있습니다:",
            "Posted on the website since {at}:",
        ),
        "br_posted" => (
            "통지 내용을 홈페이지에 게시했습니다. 적어도 30일 동안 보입니다.",
            "The notice is posted on the website, for at least 30 days.",
        ),
        "br_posted_before" => ("이미 게시했습니다.", "It was posted before."),
        "br_close_refused" => (
            "유출이 확인된 사고는 회원 통지와(필요하면) 신고를 마친 뒤에 종결할 수 있습니다. 이미 종결된 사고일 수도 있습니다.",
            "A confirmed breach closes only once the members are told and any required report is made (or it is closed already).",
        ),
        "bn_title" => ("개인정보 유출 통지", "Personal data breach notices"),
        "bn_intro" => (
            "전자우편으로 알려 드리지 못한 회원님께 이 게시로 알려 드립니다(「개인정보 보호법」 제34조).",
            "For members we could not reach by e-mail, this posting is our notice (PIPA Art. 34).",
        ),
        "bn_none" => ("게시 중인 통지가 없습니다.", "No notice is posted."),
        "bn_posted" => ("게시", "Posted"),
        "br_actions" => ("조치", "Actions"),
        "br_notify_help" => (
            "대상 회원 모두에게 다섯 가지 통지 사항과 구제 절차를 담은 전자우편을 보냅니다. 처리정지를 요구한 회원에게도 법에 따라 보냅니다. 한 번만 보낼 수 있습니다.",
            "Mails every member involved the five items the law requires and the remedies — also members who stopped processing, as the law requires. It can be sent once.",
        ),
        "br_followup" => ("확인 통지:", "Confirmation:"),
        "br_followup_due" => (
            "유출 의심으로 알린 뒤 확인됨 — 확인 통지 필요",
            "Told as suspected, confirmed since — the confirmation is due",
        ),
        "br_followup_help" => (
            "유출 가능성을 알린 회원 모두에게 유출이 확인되었음을 다섯 가지 통지 사항과 함께 다시 알립니다. 한 번만 보낼 수 있습니다.",
            "Tells every member who was told of the possibility that the breach is confirmed, with the five items again. It can be sent once.",
        ),
        "br_notify_followup" => ("확인 통지하기", "Send the confirmation"),
        "br_notify" => ("회원에게 통지하기", "Tell the members"),
        "br_prepare_report" => ("신고서 준비하기", "Prepare the report"),
        "br_record_report" => ("신고 완료 기록", "Record the report as submitted"),
        "br_confirm" => ("유출 확인으로 바꾸기", "Mark as confirmed"),
        "br_close" => ("종결하기", "Close"),
        "br_report_title" => ("개인정보 유출 등 신고서", "Breach report"),
        "br_back_to_incident" => ("사고로 돌아가기", "Back to the incident"),
        "br_report_help" => (
            "개인정보보호위원회(개인정보 포털) 또는 한국인터넷진흥원(KISA)에 제출할 내용입니다. 신고서는 한국어로 작성됩니다. 제출한 뒤 사고 화면에서 「신고 완료 기록」을 누르세요.",
            "What to submit to the PIPC (privacy portal) or KISA; the report is in Korean. After submitting it, press \"Record the report as submitted\" on the incident.",
        ),
        "br_no_mail" => (
            "전자우편이 설정되어 있지 않아 통지를 보낼 수 없습니다.",
            "No mail is configured: the notices cannot be sent.",
        ),
        "br_notified" => (
            "통지를 시작했습니다. 대상 회원 모두에게 차례로 보냅니다.",
            "The notices are on their way to every member involved.",
        ),
        "br_notify_refused" => (
            "이미 통지했거나 종결된 사고입니다.",
            "The members were told before, or the incident is closed.",
        ),
        "br_reported" => (
            "신고 완료를 기록했습니다.",
            "The report is recorded as submitted.",
        ),
        "br_reported_before" => (
            "신고 완료가 이미 기록되어 있습니다.",
            "The report was recorded before.",
        ),
        "br_confirmed" => ("유출 확인으로 바꾸었습니다.", "Marked as confirmed."),
        "br_closed" => ("사고를 종결했습니다.", "The incident is closed."),
        "br_is_closed" => ("종결된 사고입니다.", "The incident is closed."),
        "office_dash_breaches" => ("유출 사고", "Breaches"),
        "office_dash_breaches_help" => (
            "알게 된 때부터 72시간 안에 회원 통지와(필요하면) 신고를 마쳐야 합니다.",
            "Members must be told, and a required report made, within 72 hours of discovery.",
        ),
        "pc_title" => ("처리 위탁", "Processors"),
        "pc_intro" => (
            "처리방침에 공개한 수탁자마다 위탁 계약과 점검을 기록합니다. 계약서에는 법이 정한 일곱 가지 내용이 모두 들어 있어야 하며(「개인정보 보호법」 제26조제1항, 시행령 제28조제1항), 수탁자가 개인정보를 안전하게 처리하는지 적어도 1년에 한 번 점검합니다. 수탁자를 추가·변경하면 처리방침을 개정하여 시행 전에 회원에게 알립니다.",
            "For each processor the policy publishes, record the contract and the checks. The contract must contain all seven terms the law requires (PIPA Art. 26(1); Decree Art. 28(1)), and each processor is checked at least once a year. Adding or changing a processor is a revision of the policy, announced to members before it applies.",
        ),
        "pc_task" => ("맡긴 업무", "Task"),
        "pc_items" => ("처리하는 항목", "Items handled"),
        "pc_contract" => ("위탁 계약", "Contract"),
        "pc_no_contract" => ("기록된 계약이 없습니다", "No contract recorded"),
        "pc_record_contract" => ("계약 기록", "Record the contract"),
        "pc_signed_on" => ("계약일", "Signed on"),
        "pc_terms" => ("계약에 들어 있는 내용", "Terms the contract contains"),
        "pc_note" => ("메모", "Note"),
        "pc_save_contract" => ("계약 기록하기", "Record the contract"),
        "pc_checks" => ("점검 기록", "Checks"),
        "pc_no_checks" => ("아직 점검 기록이 없습니다.", "No check recorded yet."),
        "pc_checked_on" => ("점검일", "Checked on"),
        "pc_found" => ("점검 결과", "What the check found"),
        "pc_by" => ("기록한 사람", "Recorded by"),
        "pc_save_check" => ("점검 기록하기", "Record the check"),
        "pc_check_due" => ("점검 필요", "Check due"),
        "pc_contract_missing" => ("계약 기록 없음", "No contract on record"),
        "pc_recorded" => ("기록했습니다.", "Recorded."),
        "pt_title" => ("제3자 제공", "Provision to partners"),
        "pt_intro" => (
            "처리방침에 적힌 제휴사에, 그 제휴사 제공에 따로 동의한 회원의 정보만 제공합니다. 처음 제공하기 전에 모든 회원에게 전자우편으로 알리고 동의를 구하며, 정보가 나가는 순간 동의를 다시 확인합니다. 정정·탈퇴·동의 철회는 받은 곳에 바로 알리고, 받은 곳이 확인할 때까지 여기서 지켜봅니다.",
            "Only members who separately consented to a partner of the policy have their data provided to it. Before the first provision every member is told by e-mail and asked; the consent is checked again when the data leaves. Corrections, departures and withdrawn consents are passed on at once, and followed here until the partner acknowledges them.",
        ),
        "pt_purposes" => ("제공받는 자의 이용 목적", "Recipient's purposes"),
        "pt_items" => ("제공 항목", "Items provided"),
        "pt_retention" => ("제공받는 자의 보유·이용 기간", "Recipient's retention"),
        "pt_consenting" => ("현재 동의한 회원 수", "Members consenting now"),
        "pt_asked_at" => ("회원에게 알리고 동의를 구한 때", "Members told and asked"),
        "pt_never_asked" => ("아직 알리지 않음", "Not yet"),
        "pt_adapter" => ("전송 주소", "Delivery endpoint"),
        "pt_reachable" => ("설정됨", "Configured"),
        "pt_unreachable" => (
            "이 제휴사로 보낼 연결(serve --partner)이 설정되어 있지 않습니다.",
            "No endpoint is configured for this partner (serve --partner).",
        ),
        "pt_ask" => ("회원에게 알리고 동의 구하기", "Tell every member and ask"),
        "pt_provide" => ("동의한 회원의 정보 제공", "Provide to consenting members"),
        "consent_outdated" => (
            "이 동의를 하신 뒤 제공받는 자의 내용(이름, 이용 목적, 항목, 보유 기간)이 바뀌었습니다. 바뀐 내용에 다시 동의하셔야 제공합니다. 동의하지 않으시면 제공하지 않습니다.",
            "Since you gave this consent the recipient's facts (name, purposes, items, retention) have changed. Nothing is provided unless you agree to them again.",
        ),
        "consent_give_again" => ("바뀐 내용에 동의하기", "Agree to the new facts"),
        "pt_asked_before" => (
            "회원들에게 이 제휴사의 지금 내용으로 이미 알리고 동의를 요청했습니다. 그 뒤에 가입한 회원은 가입할 때 동의 여부를 정합니다. 제휴사의 내용이 바뀌어 처리방침을 개정하면 다시 요청할 수 있습니다.",
            "Members were already told about this partner as it now is and asked. Members who joined since chose when joining. A revision of the policy that changes the partner's facts allows a new request.",
        ),
        "pt_asked" => (
            "동의하지 않은 모든 회원에게 안내와 동의 요청을 보내기 시작했습니다.",
            "The notice and the request for consent are being sent to every member who has not consented.",
        ),
        "pt_provided" => (
            "동의가 유효한 회원 {n}명의 정보 제공을 시작했습니다. 보내는 순간 동의를 다시 확인합니다.",
            "Provision started for {n} members whose consent is in force; each consent is checked again when the data leaves.",
        ),
        "pt_not_asked" => (
            "먼저 회원에게 제휴사를 알리고 동의를 구해야 제공할 수 있습니다.",
            "Members must be told about the partner and asked for their consent before anything is provided.",
        ),
        "pt_no_mail" => (
            "전자우편 발송이 설정되어 있지 않아 회원에게 알릴 수 없습니다.",
            "No mail is configured, so members cannot be told.",
        ),
        "pt_resent" => ("다시 보냈습니다.", "Sent again."),
        "pt_not_waiting" => (
            "이 전달은 제휴사의 확인을 기다리고 있지 않습니다.",
            "This delivery is not waiting for the partner.",
        ),
        "pt_deliveries" => ("전달 기록", "Deliveries"),
        "pt_no" => ("번호", "No."),
        "pt_kind" => ("구분", "Kind"),
        "pt_state" => ("상태", "State"),
        "pt_sent" => ("제공 일시", "Sent"),
        "pt_ack" => ("수령 확인", "Acknowledged"),
        "pt_action" => ("처리", "Action"),
        "pt_resend" => ("다시 보내기", "Send again"),
        "pt_times" => ("회 시도", " attempts"),
        "pt_provision" => ("제공", "Provision"),
        "pt_correction" => ("정정 알림", "Correction"),
        "pt_withdrawal" => ("탈퇴 알림", "Member left"),
        "pt_consent_withdrawn" => ("동의 철회 알림", "Consent withdrawn"),
        "pt_queued" => ("발송 대기", "Waiting"),
        "pt_acknowledged" => ("확인됨", "Acknowledged"),
        "pt_skipped" => ("보내지 않음", "Not sent"),
        "pt_failed" => ("실패", "Failed"),
        "rp_partner" => ("받은 곳", "Recipient"),
        "rp_purpose" => ("목적", "Purpose"),
        "rp_items" => ("항목", "Items"),
        "rp_when" => ("제공 일시", "When"),
        "rp_kind" => ("구분", "What"),
        "rp_received" => ("수령 확인", "Received"),
        "rp_yes" => ("확인됨", "Confirmed"),
        "rp_waiting" => ("확인 대기", "Waiting"),
        "rp_failed" => ("전달 실패", "Not delivered"),
        "pz_title" => ("이벤트 경품", "Event prizes"),
        "pz_link" => ("이벤트 경품", "Event prizes"),
        "pz_prompt" => (
            "이벤트에 당첨되셨습니다. 경품을 받으실 곳을 알려 주세요.",
            "You have won an event prize. Please tell us where to send it.",
        ),
        "pz_none" => ("당첨된 경품이 없습니다.", "You have not won any prizes."),
        "pz_prize" => ("경품", "Prize"),
        "pz_awaiting" => ("배송 정보 입력 전", "Waiting for delivery details"),
        "pz_entered" => ("배송 준비 중", "Being prepared for delivery"),
        "pz_delivered" => ("배송 완료", "Delivered"),
        "pz_destroyed" => (
            "배송 완료 (배송 정보 파기)",
            "Delivered (delivery details destroyed)",
        ),
        "pz_withdrawn" => ("탈퇴로 취소", "Cancelled by withdrawal"),
        "pz_note_awaiting" => (
            "받는 사람과 받는 곳을 알려 주시면 경품을 보내 드립니다.",
            "Tell us the recipient and the address, and we will send the prize.",
        ),
        "pz_note_entered" => (
            "알려 주신 곳으로 보낼 준비를 하고 있습니다. 보내기 전까지는 고칠 수 있습니다.",
            "We are getting the prize ready to send to the address you gave. You can change it until it is sent.",
        ),
        "pz_note_delivered" => (
            "{at}에 배송을 마쳤습니다. 배송 정보는 {until}까지 보관한 뒤 파기합니다.",
            "Delivered on {at}. The delivery details are kept until {until}, then destroyed.",
        ),
        "pz_note_destroyed" => (
            "보관 기간이 끝나 배송 정보를 파기했습니다.",
            "The delivery details were destroyed at the end of their period.",
        ),
        "pz_enter" => ("배송 정보 입력", "Enter delivery details"),
        "pz_change" => ("배송 정보 고치기", "Change delivery details"),
        "pz_entry_title" => ("경품 배송 정보", "Prize delivery details"),
        "pz_notice" => (
            "경품을 보내 드리려고 다음 항목을 받습니다: {items}. 경품 배송과 배송 문의에만 쓰며, 배송을 마친 날부터 {period} 동안 보관한 뒤 파기합니다. 그 전이라도 탈퇴하시면 그때 파기합니다. 필수 항목을 알려 주지 않으시면 경품을 보내 드릴 수 없습니다.",
            "To send the prize we ask for: {items}. They are used only to deliver it and answer questions about the delivery, kept for {period} from the day of delivery, then destroyed; sooner if you leave. Without the required items we cannot send the prize.",
        ),
        "pz_saved" => (
            "배송 정보를 저장했습니다.",
            "The delivery details were saved.",
        ),
        "pz_closed" => (
            "이미 배송했거나 입력이 끝난 경품입니다.",
            "This prize has been sent or its details can no longer be entered.",
        ),
        "op_title" => ("이벤트 경품 배송", "Event prize delivery"),
        "op_intro" => (
            "이벤트를 만들고 당첨자를 기록하면, 당첨자는 마이페이지에서 배송 정보를 입력합니다. 배송 정보는 '경품 배송' 목적으로만 열 수 있고 열 때마다 접속기록에 남습니다. 배송을 마쳤다고 표시한 날부터 보관 기간이 지나면 자동으로 파기됩니다.",
            "Create an event and record its winners; each winner enters the delivery details on My page. The details can be opened only for prize delivery, and every opening goes into the access log. They are destroyed automatically when their period from the day marked delivered ends.",
        ),
        "op_events" => ("이벤트", "Events"),
        "op_event" => ("이벤트 이름", "Event name"),
        "op_created_at" => ("만든 때", "Created"),
        "op_new" => ("새 이벤트", "New event"),
        "op_create" => ("이벤트 만들기", "Create event"),
        "op_created" => (
            "이벤트를 만들었습니다. 당첨자를 기록해 주세요.",
            "The event was created. Record its winners.",
        ),
        "op_winners" => ("당첨자", "Winners"),
        "op_no" => ("당첨자", "Winner"),
        "op_winner_no" => ("{n}번", "No. {n}"),
        "op_progress" => ("진행", "Progress"),
        "op_recorded_at" => ("당첨 기록", "Recorded"),
        "op_entered_at" => ("배송 정보 입력", "Details entered"),
        "op_delivered_at" => ("배송 완료", "Delivered"),
        "op_until" => ("보관 기한", "Kept until"),
        "op_actions" => ("처리", "Actions"),
        "op_open" => ("배송 정보 보기", "Open delivery details"),
        "op_deliver" => ("배송 완료로 표시", "Mark delivered"),
        "op_kept" => (
            "배송 정보는 배송을 마친 날부터 {period} 동안 보관하고 그다음 날 파기합니다.",
            "Delivery details are kept for {period} from the day of delivery and destroyed the day after.",
        ),
        "op_opened" => ("당첨자 {n}의 배송 정보", "Delivery details of winner {n}"),
        "op_opened_note" => (
            "경품 배송 목적으로 열었고 접속기록에 남았습니다. 이 화면을 벗어나면 다시 가려집니다.",
            "Opened for prize delivery and written to the access log. They are hidden again when you leave this page.",
        ),
        "op_add" => ("당첨자 기록", "Record winners"),
        "op_winner_ids" => (
            "당첨자 아이디 또는 전자우편 주소",
            "Winners' login IDs or e-mail addresses",
        ),
        "op_winner_ids_help" => (
            "한 줄에 한 명씩 적어 주세요. 이미 기록된 당첨자는 다시 기록하지 않습니다.",
            "One per line. A winner already recorded is not recorded twice.",
        ),
        "op_record" => ("당첨자 기록", "Record winners"),
        "op_recorded" => ("당첨자 {n}명을 기록했습니다.", "{n} winner(s) recorded."),
        "op_denied" => (
            "이 당첨자의 배송 정보는 경품 배송 목적으로 열 수 없습니다 (처리방침이나 회원의 처리정지 요청). 시도는 접속기록에 남았습니다.",
            "This winner's delivery details cannot be opened for prize delivery (the policy, or the member stopped that processing). The attempt was logged.",
        ),
        "op_nothing" => (
            "열 배송 정보가 없습니다.",
            "There are no delivery details to open.",
        ),
        "op_marked" => ("배송 완료로 표시했습니다.", "Marked delivered."),
        "op_not_entered" => (
            "배송 정보가 입력된 경품만 배송 완료로 표시할 수 있습니다.",
            "Only a prize whose delivery details were entered can be marked delivered.",
        ),
        "of_title" => ("주문 조회와 환불", "Orders and refunds"),
        "of_intro" => (
            "회원의 요청이나 불만에 적힌 주문번호로 주문을 찾아, 남은 금액의 전부나 일부를 결제대행사(PortOne)를 통해 환불합니다. 조회와 환불은 접속기록에 남고, 환불은 대금결제 기록으로 보관됩니다.",
            "Find an order by the order number in a member's request or complaint, and refund all or part of what remains through the payment company (PortOne). Looking and refunding go into the access log; a refund is kept as a payment record.",
        ),
        "of_order_id" => ("주문번호", "Order number"),
        "of_find" => ("찾기", "Find"),
        "of_not_found" => (
            "그 주문번호의 주문이 없습니다.",
            "There is no order with that number.",
        ),
        "of_refunded_so_far" => ("환불한 금액", "Refunded so far"),
        "of_refund" => ("환불", "Refund"),
        "of_amount" => ("환불 금액 (원)", "Amount to refund (won)"),
        "of_amount_help" => (
            "비워 두면 남은 금액을 모두 환불합니다.",
            "Leave it empty to refund everything that remains.",
        ),
        "of_amount_number" => (
            "환불 금액은 숫자로 적어 주세요",
            "Write the amount as a number",
        ),
        "of_reason" => ("환불 사유", "Reason"),
        "of_offer" => (
            "청약철회에 따른 환불 (전자상거래법 제17조): 남은 금액을 모두 환불하고 계약·청약철회 기록으로도 보관합니다",
            "A refund for a withdrawn offer (E-Commerce Act, Art. 17): everything that remains is refunded, and it is also kept as a contract record",
        ),
        "of_offer_whole" => (
            "청약철회는 남은 금액을 모두 환불합니다. 환불 금액을 비워 주세요",
            "A withdrawn offer refunds everything that remains: leave the amount empty",
        ),
        "pr_offer_withdrawn" => ("청약철회", "Offer withdrawn"),
        "of_refund_button" => ("환불하기", "Refund"),
        "of_refunded" => ("환불했습니다.", "Refunded."),
        "of_not_refundable" => (
            "이 주문은 지금 환불할 수 없습니다",
            "This order cannot be refunded now",
        ),
        "consents_kept" => (
            "고르신 동의는 그대로 있습니다.",
            "The consents you chose are kept.",
        ),
        "limited_reauth" => (
            "비밀번호 확인 시도가 너무 많았습니다.",
            "There were too many password confirmations.",
        ),
        "limited_receipt_lookup" => (
            "접수번호 조회가 너무 많았습니다.",
            "There were too many receipt look-ups.",
        ),
        "limited_recovery" => (
            "아이디 찾기·비밀번호 재설정 요청이 너무 많았습니다.",
            "Too many login ID or password requests were sent.",
        ),
        "limited_complaint" => (
            "의견·불만 접수가 너무 많았습니다.",
            "Too many opinions or complaints were sent from here.",
        ),
        "my_items" => ("내 개인정보", "My personal data"),
        "masked_note" => (
            "개인정보는 일부를 가려서 보여 드립니다. 전체를 보려면 '모두 보기'를 누르세요 (최근 10분 안에 비밀번호를 입력해야 합니다).",
            "Values are partly hidden. Press 'Show all' to see them in full (needs your password within the last 10 minutes).",
        ),
        "show_all" => ("모두 보기", "Show all"),
        "hide" => ("가리기", "Hide"),
        "edit" => ("정보 수정", "Correct my data"),
        "change_password" => ("비밀번호 변경", "Change password"),
        "current_password" => ("현재 비밀번호", "Current password"),
        "new_password" => ("새 비밀번호", "New password"),
        "password_changed" => (
            "비밀번호를 바꾸었습니다. 다른 기기의 로그인은 모두 끝났습니다.",
            "Password changed. Every other login has ended.",
        ),
        "saved" => ("저장했습니다.", "Saved."),
        "my_consents" => ("동의 현황", "My consents"),
        "consent_given" => ("동의", "Given"),
        "consent_refused" => ("동의하지 않음", "Not given"),
        "give" => ("동의하기", "Give"),
        "withdraw_consent" => ("동의 철회", "Withdraw"),
        "consent_date" => ("일시", "Date"),
        "policy_version" => ("처리방침 판", "Policy version"),
        "policy_effective" => ("적용된 처리방침 (시행일)", "Policy in force (effective)"),
        "policy_of" => ("처리방침 시행일", "policy effective"),
        "consent_item" => ("동의 항목", "Consent"),
        "consent_state" => ("현재 상태", "Status"),
        "consent_decision" => ("선택", "Decision"),
        "consent_change" => ("변경", "Change"),
        "channel" => ("경로", "Where"),
        "channel_web" => ("웹사이트", "Website"),
        "channel_api" => ("연동 서비스(API)", "Connected service (API)"),
        "history_note" => (
            "동의하거나 동의하지 않거나 철회한 기록을 모두, 최근 것부터 보여 드립니다. 기록은 고치거나 지울 수 없습니다.",
            "Every decision to give, refuse or withdraw a consent, newest first. Records cannot be changed or deleted.",
        ),
        "withdraw_deletes" => (
            "동의를 철회하면 다음 정보를 바로 삭제합니다:",
            "Withdrawing this consent deletes at once:",
        ),
        "withdraw_consent_confirm" => ("철회하고 삭제하기", "Withdraw and delete"),
        "nothing_changed" => ("바뀐 내용이 없습니다.", "Nothing was changed."),
        "already_used" => (
            "이미 다른 계정에서 쓰고 있는 정보입니다.",
            "is already used by another account.",
        ),
        "password_wrong" => ("비밀번호가 맞지 않습니다.", "The password is not correct."),
        "history" => ("동의 이력", "Consent history"),
        "recipients" => ("내 정보를 받은 곳", "Who received my data"),
        "no_recipients" => (
            "내 정보를 제3자에게 제공한 기록이 없습니다.",
            "No third party has received your data.",
        ),
        "download" => ("내 정보 내려받기", "Download my data"),
        "download_json" => ("JSON (기계가 읽는 형식)", "JSON (machine-readable)"),
        "print" => ("인쇄용 보기", "Printable page"),
        "reauth_title" => ("비밀번호 다시 입력", "Enter your password again"),
        "reauth_body" => (
            "민감한 정보를 보거나 내려받으려면 비밀번호를 다시 입력해 주세요.",
            "To see or download sensitive data, enter your password again.",
        ),
        "withdraw_title" => ("회원탈퇴", "Leave membership"),
        "withdraw_deleted" => (
            "탈퇴하면 바로 파기하는 정보",
            "Destroyed at once when you leave",
        ),
        "withdraw_deleted_body" => (
            "회원님의 정보를 잠근 열쇠를 없애므로, 백업을 포함한 모든 사본에서 다시 읽을 수 없게 됩니다.",
            "The key that locks your data is destroyed, so no copy of it — backups included — can be read again.",
        ),
        "withdraw_kept" => (
            "법에 따라 보관하는 기록",
            "Kept because the law requires it",
        ),
        "withdraw_confirm" => (
            "비밀번호를 입력하고 탈퇴하기",
            "Enter your password and leave",
        ),
        "withdraw_button" => ("탈퇴하기", "Leave"),
        "withdrawn_title" => ("탈퇴를 마쳤습니다", "You have left"),
        "receipt" => ("탈퇴 확인번호", "Withdrawal receipt"),
        "receipt_note" => (
            "이 번호는 탈퇴 직후 이 화면(30분 동안, 이 브라우저에서)에서만 보여 드리며 저희도 다시 알려 드릴 수 없습니다. 적어 두시면 탈퇴 후에도 법에 따라 보관 중인 기록을 조회할 수 있습니다.",
            "This number is shown only on this page right after leaving (for 30 minutes, in this browser); we cannot tell it again. Keep it: with it you can see the records kept by law after leaving.",
        ),
        "expires_on" => (
            "보관 기한 (이날까지 보관, 다음 날 파기)",
            "Kept until (through this day; destroyed the day after)",
        ),
        "period" => ("보관 기간", "Retention period"),
        "held" => (
            "분쟁 등의 사유로 파기를 보류하고 있습니다. 보류가 풀리면 바로 파기합니다.",
            "Kept past this date under a legal hold (for example a dispute); destroyed as soon as the hold is lifted.",
        ),
        "show_content" => ("보관 중인 내용 보기", "Show what is kept"),
        "basis" => ("법적 근거", "Legal basis"),
        "class" => ("기록", "Record"),
        "retained_title" => ("탈퇴 후 보관 중인 기록 조회", "Records kept after leaving"),
        "lookup" => ("조회", "Look up"),
        "not_found" => ("해당하는 기록이 없습니다.", "No records found."),
        "versions" => ("지난 처리방침", "Earlier versions"),
        "effective" => ("시행일", "Effective"),
        "csrf_failed" => (
            "요청을 확인할 수 없습니다. 페이지를 새로 고친 뒤 다시 시도해 주세요.",
            "The request could not be verified. Reload the page and try again.",
        ),
        "session_expired" => ("로그인이 필요합니다.", "Please log in."),
        "error_title" => ("문제가 생겼습니다", "Something went wrong"),
        "error_body" => (
            "요청을 처리하지 못했습니다. 같은 문제가 계속되면 아래 번호를 개인정보 보호책임자에게 알려 주세요:",
            "The request could not be completed. If it keeps happening, give this number to the privacy officer:",
        ),
        "office" => ("개인정보 보호책임자", "Privacy officer"),
        "password_rule" => (
            "영문 대문자·소문자·숫자·특수문자 중 2종류 이상으로 8자 이상, 또는 1종류로 10자 이상. 아이디·생년월일·전화번호는 넣을 수 없습니다.",
            "8+ characters of 2 or more kinds (upper, lower, digits, symbols), or 10+ of one kind; no login ID, birth date or phone number.",
        ),
        "passwords_differ" => (
            "비밀번호와 비밀번호 확인이 다릅니다.",
            "The two passwords differ.",
        ),
        "id_rule" => (
            "영문 소문자로 시작하는 4~20자 (영문 소문자·숫자·_·-)",
            "4-20 characters: lower-case letters, digits, _ or -, starting with a letter",
        ),
        "sms_outbox" => ("샌드박스 문자함", "Sandbox text messages"),
        "mail_outbox" => ("샌드박스 메일함", "Sandbox mailbox"),
        "mail_outbox_note" => (
            "개발용 화면입니다. 실제로 보내지 않은 메일을 여기에서 봅니다.",
            "A development page: mail that was not really sent is shown here.",
        ),
        // 아이디 찾기 / 비밀번호 재설정 (/recovery).
        "rc_id_title" => ("아이디 찾기", "Find my login ID"),
        "rc_password_title" => ("비밀번호 재설정", "Reset my password"),
        "rc_id_intro" => (
            "가입할 때 적은 전자우편 주소를 입력하면, 그 주소로 아이디를 보내 드립니다.",
            "Enter the e-mail address you gave when you joined: we send your login ID to it.",
        ),
        "rc_password_intro" => (
            "아이디와 가입할 때 적은 전자우편 주소를 입력하면, 그 주소로 비밀번호를 새로 정할 수 있는 주소를 보내 드립니다. 주소는 30분 동안 한 번만 쓸 수 있습니다.",
            "Enter your login ID and the e-mail address you gave when you joined: we send an address to set a new password to it. It works once, for 30 minutes.",
        ),
        "rc_email" => ("전자우편 주소", "E-mail address"),
        "rc_send" => ("보내기", "Send"),
        "rc_sent" => (
            "입력한 정보와 맞는 회원이 있으면 그 전자우편 주소로 안내를 보냈습니다. 몇 분 안에 오지 않으면 스팸 편지함도 확인해 주세요.",
            "If a member matches what you entered, we have sent the instructions to that e-mail address. If nothing arrives within a few minutes, check your spam folder.",
        ),
        "rc_reset_title" => ("새 비밀번호 정하기", "Set a new password"),
        "rc_reset_save" => ("비밀번호 바꾸기", "Change password"),
        "rc_invalid" => (
            "이 주소는 맞지 않거나, 이미 썼거나, 30분이 지났습니다. 다시 요청해 주세요.",
            "This address is wrong, already used or more than 30 minutes old. Please ask again.",
        ),
        "rc_done" => (
            "비밀번호를 바꾸었습니다. 다른 기기의 로그인은 모두 끝났습니다. 새 비밀번호로 로그인하세요.",
            "Your password is changed and every other login has ended. Log in with the new password.",
        ),
        "rc_identity_body" => (
            "가입할 때 본인확인한 휴대폰으로 인증번호를 받으면, 회원님의 아이디를 알려 드리고 비밀번호를 새로 정할 수 있습니다. 본인확인 결과는 이 일에만 씁니다.",
            "Receive a code on the mobile phone you verified when joining: we then show your login ID and let you set a new password. The result is used for this only.",
        ),
        "rc_found_title" => (
            "아이디 찾기 · 비밀번호 재설정",
            "Your login ID and a new password",
        ),
        "rc_found_id" => ("회원님의 아이디", "Your login ID"),
        "rc_found_none" => (
            "본인확인한 정보로 가입한 회원이 없습니다.",
            "No member joined with the identity you verified.",
        ),
        "rc_found_password" => (
            "비밀번호도 새로 정하려면 아래에 입력하세요. 다른 기기의 로그인은 모두 끝납니다.",
            "To set a new password as well, enter it below. Every other login ends.",
        ),
        "rc_links" => (
            "아이디 찾기 · 비밀번호 재설정",
            "Forgot your login ID or password?",
        ),
        "skip_to_content" => ("본문 바로가기", "Skip to content"),
        // The privacy office's console (/office).
        "office_console" => ("개인정보 보호 업무", "Privacy office"),
        "office_dash_failed_mail" => ("보내지 못한 메일", "Mail that did not go out"),
        "office_dash_failed_mail_help" => (
            "여러 번 보내려 했지만 메일 서버가 받지 않은 메일입니다. 내용은 지웠습니다. 필요하면 회원에게 다른 방법으로 알려 주세요.",
            "The mail server did not take these after several attempts. Their content is erased; tell the member another way if needed.",
        ),
        "office_mail_when" => ("시각", "When"),
        "office_mail_kind" => ("종류", "Kind"),
        "office_mail_member" => ("회원 번호", "Member"),
        "office_mail_error" => ("오류", "Error"),
        "office_footer" => (
            "직원 전용 화면입니다. 모든 로그인과 열람·변경은 직원 계정 이름과 함께 접속기록에 남습니다.",
            "For staff only. Every login, view and change is kept in the access log under the staff account.",
        ),
        "office_rrn_warning" => (
            "주의: 이 사이트는 주민등록번호를 수집하도록 설정되어 있습니다. 개인정보 보호법 제24조의2에 따라 주민등록번호는 법령이 구체적으로 요구하거나 허용하는 경우에만 처리할 수 있습니다. 근거 법령을 확인하세요.",
            "Warning: this site is set up to collect resident registration numbers. Under PIPA Art. 24-2 they may be processed only where a law specifically requires or allows it. Check the legal basis.",
        ),
        "office_login" => ("직원 로그인", "Staff login"),
        "office_login_intro" => (
            "계정 이름, 비밀번호, 인증 앱의 6자리 코드를 입력하세요.",
            "Enter your account name, password and the 6-digit code from your authenticator app.",
        ),
        "office_account_name" => ("계정 이름", "Account name"),
        "office_role" => ("역할", "Role"),
        "office_code" => ("인증 코드", "Authentication code"),
        "office_code_hint" => (
            "인증 앱에 표시된 6자리 숫자. 휴대폰을 잃어버렸다면 복구 코드 하나를 입력하세요.",
            "The 6 digits your authenticator app shows. If you lost your phone, enter one of your recovery codes.",
        ),
        "office_login_failed" => (
            "계정 이름, 비밀번호 또는 인증 코드가 맞지 않습니다.",
            "The account name, password or code is not right.",
        ),
        "office_login_locked" => (
            "로그인에 여러 번 실패하여 이 계정의 로그인을 잠시 막았습니다. {n}분 뒤에 다시 시도해 주세요.",
            "Too many failed logins: logging in to this account is blocked for now. Try again in {n} minutes.",
        ),
        "office_session_ended" => (
            "로그인이 끝났습니다. 일정 시간 사용하지 않으면 자동으로 로그아웃됩니다. 다시 로그인해 주세요.",
            "Your session ended: staff are logged out automatically when idle. Please log in again.",
        ),
        "office_logged_out" => ("로그아웃했습니다.", "You are logged out."),
        "office_enrol" => ("직원 계정 등록", "Staff account enrolment"),
        "office_enrol_until" => (
            "이 등록 링크는 다음 시각까지 한 번만 쓸 수 있습니다:",
            "This enrolment link works once, until",
        ),
        "office_enrol_app" => ("인증 앱 연결", "Connect an authenticator app"),
        "office_enrol_app_body" => (
            "휴대폰의 인증 앱(Google Authenticator, Microsoft Authenticator 등)에서 아래 QR 코드를 찍거나, 설정 키를 직접 입력하세요.",
            "In your phone's authenticator app (Google Authenticator, Microsoft Authenticator or another), scan the QR code below or type the setup key.",
        ),
        "office_enrol_qr_label" => (
            "인증 앱에 등록할 QR 코드",
            "QR code for the authenticator app",
        ),
        "office_enrol_key" => ("설정 키 (직접 입력할 때):", "Setup key (to type it in):"),
        "office_enrol_password" => ("비밀번호 정하기", "Choose a password"),
        "office_enrol_code" => ("인증 앱의 코드 확인", "Confirm the app's code"),
        "office_enrol_done" => ("등록 마치기", "Finish enrolment"),
        "office_enrol_gone_title" => (
            "쓸 수 없는 등록 링크입니다",
            "This enrolment link cannot be used",
        ),
        "office_enrol_gone_body" => (
            "이미 쓴 링크이거나 기한이 지났거나 취소된 계정입니다. 개인정보 보호책임자에게 새 등록 링크를 요청하세요.",
            "The link was used already, has expired, or the account was revoked. Ask the privacy officer for a new enrolment link.",
        ),
        "office_recovery_title" => ("등록을 마쳤습니다", "Enrolment complete"),
        "office_recovery_body" => (
            "아래 복구 코드는 휴대폰을 잃어버렸을 때 인증 코드 대신 한 번씩 쓸 수 있습니다. 종이에 적어 안전한 곳에 보관하세요.",
            "Each recovery code below can be used once instead of the app's code if you lose your phone. Write them down and keep them somewhere safe.",
        ),
        "office_recovery_once" => (
            "복구 코드는 지금 한 번만 보여 드립니다. 이 화면을 벗어나면 다시 볼 수 없습니다.",
            "The recovery codes are shown this once. Once you leave this page they cannot be shown again.",
        ),
        "office_home" => ("업무 첫 화면", "Office home"),
        "office_logged_in_at" => ("로그인 시각", "Logged in at"),
        "office_idle_rule" => (
            "{n}분 동안 사용하지 않으면 자동으로 로그아웃됩니다.",
            "You are logged out automatically after {n} minutes without use.",
        ),
        "office_work" => ("업무", "Work"),
        "office_your_powers" => ("이 역할로 할 수 있는 일", "What this role may do"),
        "office_power_manage_staff" => (
            "직원 계정과 권한 관리",
            "Manage staff accounts and their rights",
        ),
        "office_power_all_requests" => (
            "모든 열람·정정·삭제·처리정지 요구와 민원 처리",
            "Work every access, correction, erasure and suspension request and complaint",
        ),
        "office_power_assigned_requests" => {
            ("배정된 요구 처리", "Work the requests assigned to you")
        }
        "office_power_member_data" => (
            "요구 처리를 위한 회원 정보 조회 (목적과 사유 기록)",
            "View a member's data for a request (purpose and reason recorded)",
        ),
        "office_power_holds" => (
            "보관 기록의 보존 조치와 해제",
            "Place and lift legal holds on kept records",
        ),
        "office_power_purge" => ("파기 실행", "Run the purge"),
        "office_power_destructions" => (
            "파기 대장과 보관 기록 목록 보기",
            "See the destruction report and the kept records",
        ),
        "office_power_access_review" => ("접속기록 점검", "Review the access log"),
        "office_staff" => ("직원 계정 관리", "Staff accounts"),
        "office_staff_accounts" => ("계정", "Accounts"),
        "office_state" => ("상태", "State"),
        "office_state_enrolled" => ("등록", "Enrolled"),
        "office_state_waiting" => ("등록 대기", "Awaiting enrolment"),
        "office_state_revoked" => ("권한 말소", "Revoked"),
        "office_change" => ("변경", "Change"),
        "office_change_role_button" => ("역할 변경", "Change role"),
        "office_revoke_title" => ("직원 계정 권한 말소", "Revoke a staff account"),
        "office_revoke_confirm" => (
            "{name} 계정의 권한을 말소할까요? 곧바로 로그아웃되고 다시 로그인할 수 없으며, 되돌릴 수 없습니다. 말소 기록은 남습니다.",
            "Revoke {name}? The account is logged out at once and can never log in again; this cannot be undone. The revocation stays on record.",
        ),
        "office_cancel" => ("취소", "Cancel"),
        "office_reset_button" => ("재등록 링크", "Re-enrol"),
        "office_revoke_button" => ("권한 말소", "Revoke"),
        "office_staff_add" => ("직원 계정 추가", "Add a staff account"),
        "office_staff_add_button" => (
            "추가하고 등록 링크 만들기",
            "Add and make an enrolment link",
        ),
        "office_link_once" => (
            "등록 링크입니다. 지금 한 번만 보여 드리니 본인에게 안전하게 전달하세요 (72시간 동안 한 번 쓸 수 있음).",
            "The enrolment link, shown this once: pass it safely to the person (it works once, for 72 hours).",
        ),
        "office_grants" => (
            "권한 부여·변경·말소 기록",
            "Record of grants, changes and revocations",
        ),
        "office_grants_hint" => (
            "개인정보 보호법 안전성 확보조치 기준에 따라 최소 3년 보관합니다. 최근 기록이 먼저 나옵니다.",
            "Kept at least 3 years, as the safeguards standard requires. Most recent first.",
        ),
        "office_when" => ("일시", "When"),
        "office_by" => ("처리자", "By"),
        "office_by_cli" => ("운영자 (명령줄)", "Operator (command line)"),
        "office_change_grant" => ("부여", "Granted"),
        "office_change_role" => ("역할 변경", "Role changed"),
        "office_change_reset" => ("재등록", "Re-enrolment"),
        "office_change_revoke" => ("말소", "Revoked"),
        "office_role_needed" => ("역할을 고르세요.", "Choose a role."),
        "office_role_changed" => (
            "{name} 계정의 역할을 바꾸었습니다.",
            "The role of {name} was changed.",
        ),
        "office_revoked" => (
            "{name} 계정의 권한을 말소했습니다. 더 이상 로그인할 수 없습니다.",
            "{name} was revoked: it can no longer log in.",
        ),
        "office_not_own_account" => (
            "자기 계정의 역할이나 권한은 바꿀 수 없습니다. 다른 책임자에게 요청하세요.",
            "You cannot change your own account; ask another officer.",
        ),
        "office_by_system" => ("지킴이 (자동 처리)", "jikimi (automatic)"),
        "office_by_member" => ("회원 본인", "The member"),
        "office_destructions" => ("파기 대장", "Destruction report"),
        "office_destructions_intro" => (
            "탈퇴와 보관 기간 만료로 파기한 개인정보의 기록입니다. 개인정보는 담고 있지 않습니다. 최근 기록이 먼저 나옵니다.",
            "Every destruction of personal data, at withdrawal and when retention periods ended. It holds no personal data. Most recent first.",
        ),
        "office_class" => ("보관 구분", "Kind of record"),
        "office_event" => ("사유", "Event"),
        "office_event_withdrawal" => ("회원 탈퇴", "Withdrawal"),
        "office_event_purge" => ("보관 기간 만료", "Retention period over"),
        "office_event_consent_withdrawal" => ("동의 철회", "Consent withdrawn"),
        "office_period" => ("기간", "Period"),
        "office_period_until_withdrawal" => ("탈퇴할 때까지", "Until withdrawal"),
        "office_period_expired" => ("만료", "expired"),
        "office_count" => ("건수", "Count"),
        "office_method" => ("파기 방법", "Method"),
        "office_method_key" => ("암호키 파기", "Key destruction"),
        "office_method_deletion" => ("삭제", "Deletion"),
        "office_none_yet" => ("아직 기록이 없습니다.", "Nothing yet."),
        "office_retained" => ("탈퇴 후 보관 기록", "Records kept after withdrawal"),
        "office_retained_intro" => (
            "법령에 따라 탈퇴 후에도 보관하는 기록입니다. 내용은 보이지 않으며, 보관 기간이 끝나면 다음 날 파기됩니다. 분쟁이나 수사로 더 보관해야 하면 사유를 적고 보존 조치를 하세요.",
            "Records kept after withdrawal as the law requires. Their content is not shown; each is destroyed the day after its period ends. To keep one longer for a dispute or an investigation, place a hold with the reason.",
        ),
        "office_record" => ("기록 번호", "Record"),
        "office_kept_through" => ("보관 만료일", "Kept through"),
        "office_hold" => ("보존 조치", "Legal hold"),
        "office_held_since" => ("보존 조치", "Held since"),
        "office_hold_reason" => ("보존 사유", "Reason for the hold"),
        "office_hold_button" => ("보존 조치", "Place a hold"),
        "office_release_button" => ("보존 해제", "Release"),
        "office_held" => (
            "보존 조치를 했습니다. 해제할 때까지 파기하지 않습니다.",
            "The record is on hold: it is not destroyed until released.",
        ),
        "office_released" => (
            "보존 조치를 해제했습니다. 보관 기간이 지났다면 다음 파기 때 파기됩니다.",
            "The hold is lifted: if its period is over, the next purge destroys the record.",
        ),
        "office_next_page" => ("다음 기록", "More records"),
        "office_site_home" => ("사이트 처음 화면", "The site's home page"),
        "office_outside_title" => (
            "이 주소에서는 직원 화면을 열 수 없습니다",
            "The staff pages do not open from this address",
        ),
        "office_outside_body" => (
            "개인정보 보호 업무 화면은 정해진 곳(사내망 등)에서만 열립니다. 허용된 곳에서 다시 접속하세요.",
            "The privacy office's pages open only from the places set for them (such as the office network). Connect from one of those.",
        ),
        "office_forbidden_title" => (
            "이 역할로는 열 수 없는 화면입니다",
            "This role cannot open this page",
        ),
        "office_forbidden_body" => (
            "직원마다 업무에 필요한 권한만 가집니다. 필요하면 개인정보 보호책임자에게 요청하세요.",
            "Each staff account has only the rights its work needs. Ask the privacy officer if you need more.",
        ),
        // ----- rights requests (My page), complaints (public), the console's requests
        "rq_title" => ("권리 행사 요청", "Requests about your data"),
        "rq_link" => (
            "열람·정정·삭제·처리정지·동의 철회·탈퇴를 개인정보 보호책임자에게 요청하기",
            "Ask the privacy office to show, correct or erase your data, stop processing it, withdraw consent or close your account",
        ),
        "rq_intro" => (
            "화면에서 직접 할 수 없거나 개인정보 보호책임자에게 맡기고 싶은 일을 요청하세요. 받은 날부터 10일 안에 답해 드립니다. 정정을 요청하신 항목은 정정을 마칠 때까지 이용하거나 제공하지 않습니다.",
            "Ask the privacy office for what you cannot do on these pages, or would rather have done for you. We answer within 10 days of receiving it. An item you ask to have corrected is neither used nor provided until the correction is done.",
        ),
        "rq_mine" => ("내 요청", "My requests"),
        "rq_none" => (
            "아직 요청한 것이 없습니다.",
            "You have made no requests yet.",
        ),
        "rq_new" => ("새로 요청하기", "Make a request"),
        "rq_kind" => ("무엇을 요청하시나요?", "What do you ask for?"),
        "rq_kind_missing" => ("요청의 종류를 고르세요", "Choose what you ask for"),
        "rq_item_legend" => (
            "정정·삭제를 요청할 때: 항목과 바른 값",
            "For a correction or erasure: the item and its right value",
        ),
        "rq_item" => ("항목", "Item"),
        "rq_value" => (
            "바른 값 (지우려면 비워 두세요)",
            "The right value (leave it empty to erase)",
        ),
        "rq_erase" => ("(삭제)", "(erase)"),
        "rq_purpose_legend" => ("처리정지를 요청할 때", "To stop processing"),
        "rq_purpose" => ("멈출 이용 목적", "The purpose to stop"),
        "rq_consent_legend" => ("동의 철회를 요청할 때", "To withdraw a consent"),
        "rq_consent" => ("철회할 동의", "The consent to withdraw"),
        "rq_text" => ("자세한 내용 (선택)", "Details (optional)"),
        "rq_details" => ("자세한 내용", "Details"),
        "rq_submit" => ("요청하기", "Send the request"),
        "rq_filed" => (
            "요청을 받았습니다. {due}까지 답해 드립니다.",
            "We have your request and will answer by {due}.",
        ),
        "rq_received" => ("받은 날", "Received"),
        "rq_due" => ("처리 기한", "Due by"),
        "rq_state" => ("상태", "State"),
        "rq_answer" => ("답변", "Answer"),
        "rq_basis" => ("근거 법령", "Legal basis"),
        "rq_objection" => ("이의를 제기하는 방법", "How to object"),
        "rq_extended_notice" => ("처리 기한 연장", "Deadline extended"),
        "cp_link" => ("의견·불만 접수", "Opinions and complaints"),
        "cp_title" => (
            "개인정보에 관한 의견·불만 접수",
            "Opinions and complaints about personal data",
        ),
        "cp_intro" => (
            "개인정보 처리에 관한 의견이나 불만을 보내 주세요. 회원이 아니어도 됩니다. 받은 날부터 10일 안에 답하며, 답변은 접수번호로 이 누리집에서 보실 수 있습니다.",
            "Send us your opinion or complaint about how personal data is handled; you need not be a member. We answer within 10 days, and you can read the answer here with your receipt number.",
        ),
        "cp_contact_help" => (
            "연락처는 적지 않아도 됩니다. 다른 방법으로 답을 받고 싶을 때 그만큼만 적어 주세요.",
            "Contact details are optional: give only what you want to be answered by.",
        ),
        "cp_text" => ("의견·불만 내용", "Your opinion or complaint"),
        "cp_name" => ("이름", "Name"),
        "cp_email" => ("전자우편", "E-mail"),
        "cp_phone" => ("전화번호", "Phone"),
        "cp_submit" => ("보내기", "Send"),
        "cp_filed" => (
            "접수했습니다. 접수번호는 {code} 입니다. 이 번호로 답변을 볼 수 있으니 적어 두세요. 이 번호는 다시 보여 드리지 않습니다.",
            "Received. Your receipt number is {code}. Write it down: you read the answer with it, and it is not shown again.",
        ),
        "cp_status_title" => (
            "의견·불만 처리 결과 보기",
            "Read the answer to your complaint",
        ),
        "cp_lookup" => ("접수번호로 찾기", "Look up a receipt number"),
        "cp_code" => ("접수번호", "Receipt number"),
        "cp_check" => ("보기", "Look up"),
        "cp_not_found" => (
            "그 접수번호의 의견·불만이 없습니다. 번호를 다시 확인하세요.",
            "No opinion or complaint has that receipt number. Check the number.",
        ),
        "cp_your_text" => ("보내신 내용", "What you sent"),
        "cp_pending" => (
            "아직 답변하지 않았습니다. {due}까지 답해 드립니다.",
            "Not answered yet. We will answer by {due}.",
        ),
        "cp_kept_until" => (
            "이 기록은 소비자의 불만·분쟁 처리 기록으로 {date}까지 보관한 뒤 파기합니다.",
            "This record is kept as a complaint record until {date}, then destroyed.",
        ),
        "office_requests" => ("요청·불만", "Requests and complaints"),
        "office_requests_intro" => (
            "받은 날부터 10일 안에 답해야 합니다 (개인정보 보호법 제35조~제38조). 기한이 가까운 것이 먼저 보이고, 기한이 지난 요청은 빨간색입니다.",
            "Each must be answered within 10 days of receipt (PIPA Art. 35-38). The nearest deadline comes first; those past it are red.",
        ),
        "office_requests_open" => ("처리할 요청", "Open"),
        "office_requests_closed" => ("처리를 마친 요청", "Closed"),
        "office_rq_new" => (
            "서면·전화·전자우편·팩스로 받은 요청 기록하기",
            "Record a request received by letter, phone, e-mail or fax",
        ),
        "office_rq_new_intro" => (
            "요청한 사람이 본인(또는 위임장을 낸 대리인)인지 확인한 뒤 기록하세요. 회원은 아이디로 정확히 찾습니다. 의견·불만은 회원이 아니어도 됩니다.",
            "Record it after checking that the requester is the member (or an agent with a power of attorney). A member is found by their exact login ID; an opinion or complaint needs no member.",
        ),
        "office_rq_kind" => ("종류", "Kind"),
        "office_rq_channel" => ("접수 경로", "Channel"),
        "office_rq_received" => ("받은 때", "Received"),
        "office_rq_due" => ("기한", "Due"),
        "office_rq_state" => ("상태", "State"),
        "office_rq_assignee" => ("담당", "Assignee"),
        "office_rq_unassigned" => ("미배정", "Unassigned"),
        "office_rq_overdue" => ("기한 {n}일 지남", "{n} days overdue"),
        "office_rq_days_left" => ("{n}일 남음", "{n} days left"),
        "office_rq_due_today" => ("오늘까지", "Due today"),
        "office_rq_member" => ("회원", "Member"),
        "office_rq_no_member" => ("회원과 연결되지 않음", "Not linked to a member"),
        "office_rq_content" => ("요청 내용", "What was asked"),
        "office_rq_text" => ("내용", "Text"),
        "office_rq_wanted" => ("바꿀 값", "New value"),
        "office_rq_purpose" => ("멈출 목적", "Purpose to stop"),
        "office_rq_identity" => ("본인 확인 방법", "How identity was checked"),
        "office_rq_identity_help" => (
            "예: 신분증 사본 대조, 가입한 전화번호로 회신",
            "e.g. a copy of an ID card compared, a call back to the registered number",
        ),
        "office_rq_agent" => ("대리인", "Agent"),
        "office_rq_agent_name" => (
            "대리인 이름 (대리인이 요청했을 때)",
            "Agent's name (for a request by an agent)",
        ),
        "office_rq_agent_relation" => ("회원과의 관계", "Relation to the member"),
        "office_rq_attorney" => (
            "위임장을 받아 확인했습니다",
            "The power of attorney was received and checked",
        ),
        "office_rq_attorney_ok" => ("· 위임장 확인", "· power of attorney checked"),
        "office_rq_contact" => ("연락처", "Contact"),
        "office_rq_login_id" => (
            "회원 아이디, 전자우편 또는 전화번호 (정확히)",
            "The member's login ID, e-mail address or phone number (exactly)",
        ),
        "office_rq_record_button" => ("기록하기", "Record"),
        "office_rq_gone" => (
            "내용은 파기되었습니다 (회원 탈퇴, 또는 답변한 불만의 기록이 보존 저장소로 옮겨짐).",
            "The content has been destroyed (the member left, or an answered complaint's record moved to the retention store).",
        ),
        "office_rq_history" => ("처리 이력", "History"),
        "office_rq_event_filed" => ("접수", "Received"),
        "office_rq_event_assigned" => ("배정", "Assigned"),
        "office_rq_event_extended" => ("기한 연장", "Deadline extended"),
        "office_rq_event_corrected" => ("정정하고 답변", "Corrected and answered"),
        "office_rq_event_answered" => ("답변", "Answered"),
        "office_rq_event_refused" => ("거절", "Refused"),
        "office_by_public" => ("누리집 방문자", "A website visitor"),
        "office_rq_assign" => ("담당 배정", "Assign"),
        "office_rq_assign_button" => ("배정하기", "Assign"),
        "office_rq_answer_title" => ("답하고 마치기", "Answer and close"),
        "office_rq_correct" => ("요청대로 정정하고 답하기", "Correct as asked and answer"),
        "office_rq_correct_help" => (
            "요청한 값을 회원정보수정과 같은 규칙으로 검사해 고치고, 보류를 풀고, 아래 답변(비워 두면 기본 문구)을 보냅니다.",
            "Checks the value asked for with My page's rules, corrects it, lifts the hold and sends the answer below (a standard text if empty).",
        ),
        "office_rq_answer_button" => ("답하고 마치기", "Answer and close"),
        "office_rq_extend" => (
            "기한 연장 (한 번, 10일)",
            "Extend the deadline (once, 10 days)",
        ),
        "office_rq_reason" => ("이유", "Reason"),
        "office_rq_basis" => ("근거 법령", "Legal basis"),
        "office_rq_objection" => ("이의를 제기하는 방법", "How to object"),
        "office_rq_extend_button" => ("연장하고 알리기", "Extend and tell the requester"),
        "office_rq_refuse" => ("거절", "Refuse"),
        "office_rq_refuse_button" => ("거절하고 알리기", "Refuse and tell the requester"),
        "office_rq_done_assigned" => ("배정했습니다.", "Assigned."),
        "office_rq_done_corrected" => ("정정하고 답했습니다.", "Corrected and answered."),
        "office_rq_done_answered" => ("답하고 마쳤습니다.", "Answered and closed."),
        "office_rq_done_extended" => (
            "기한을 연장하고 알렸습니다.",
            "Deadline extended; the requester is told.",
        ),
        "office_rq_done_refused" => (
            "거절하고 그 이유를 알렸습니다.",
            "Refused; the requester is told why.",
        ),
        "office_rq_event_suspended" => ("처리정지하고 답변", "Processing stopped and answered"),
        "office_rq_event_withdrawn" => ("탈퇴 처리", "Member withdrawn"),
        "office_rq_read" => ("회원 정보 보기", "Read the member's data"),
        "office_rq_read_reason" => (
            "보는 이유 (접속기록에 남습니다)",
            "Why you read it (kept in the access log)",
        ),
        "office_rq_read_button" => ("이유를 남기고 보기", "Read, with this reason"),
        "office_rq_read_logged" => (
            "이 열람은 이유와 함께 접속기록에 남았습니다. 정정을 기다리는 항목은 보이지 않습니다.",
            "This read is in the access log with its reason. Items awaiting a correction are not shown.",
        ),
        "office_rq_suspend" => ("처리를 멈추고 답하기", "Stop processing and answer"),
        "office_rq_done_suspended" => (
            "그 목적의 처리를 멈추고 답했습니다.",
            "Processing for that purpose has stopped; answered.",
        ),
        "office_rq_withdraw" => ("탈퇴 처리", "Withdraw the member"),
        "office_rq_withdraw_help" => (
            "회원이 스스로 탈퇴할 때와 똑같이 처리합니다. 회원의 열쇠를 없애므로 되돌릴 수 없고, 요청 내용도 함께 파기됩니다. 확인번호는 한 번만 보여 드리니 요청한 분께 전해 주세요.",
            "The same withdrawal as the member's own: the member's key is destroyed, so it cannot be undone, and the request's text goes with it. The receipt is shown once: pass it on to the requester.",
        ),
        "office_rq_withdraw_confirm" => (
            "본인 확인을 마쳤고, 되돌릴 수 없음을 압니다",
            "The requester's identity is checked, and this cannot be undone",
        ),
        "office_rq_withdraw_confirm_missing" => (
            "탈퇴 처리 전에 확인란에 표시해 주세요",
            "Tick the confirmation before withdrawing",
        ),
        "office_rq_withdraw_button" => ("탈퇴 처리하기", "Withdraw"),
        "office_rq_done_withdrawn" => (
            "탈퇴를 처리했습니다. 확인번호 {code} 를 요청한 분께 전해 주세요. 다시 보여 드리지 않습니다.",
            "Withdrawn. Pass the receipt {code} on to the requester; it is not shown again.",
        ),
        "office_rq_event_consent_withdrawn" => {
            ("동의 철회하고 답변", "Consent withdrawn and answered")
        }
        "office_rq_withdraw_consent" => {
            ("동의를 철회하고 답하기", "Withdraw the consent and answer")
        }
        "office_rq_done_consent" => (
            "동의를 철회하고 답했습니다.",
            "The consent is withdrawn; answered.",
        ),
        "office_review" => ("접속기록 점검", "Access-log review"),
        "office_review_intro" => (
            "한 달 동안 직원 계정이 회원 정보를 열람·변경한 기록을 계정과 회원별로 모았습니다 (개인정보의 안전성 확보조치 기준 제8조). 살펴볼 기록에는 표시가 붙습니다: 한 계정이 많은 회원을 본 경우, 밤(22시~6시)의 기록, 요청 없이 본 경우, 거부된 시도. 달이 끝나면 점검 의견을 남기고 점검을 마칩니다.",
            "A month of staff entries about members, by account and member (the safeguards standard, Art. 8). What deserves a look is flagged: an account that touched many members, entries at night (22:00-06:00), reads without a request, refused attempts. Once the month is over, sign it off with your notes.",
        ),
        "office_review_counts" => ("기록 {n}건, 표시된 기록 {f}건", "{n} entries, {f} flagged"),
        "office_review_by_staff" => ("계정별", "By account"),
        "office_review_lines" => ("계정·회원별 기록", "Entries by account and member"),
        "office_review_none" => (
            "이 달에는 직원이 회원 정보를 다룬 기록이 없습니다.",
            "No staff entries about members this month.",
        ),
        "office_review_account" => ("직원 계정", "Staff account"),
        "office_review_members" => ("회원 수", "Members"),
        "office_review_entries" => ("기록 수", "Entries"),
        "office_review_flags" => ("살펴볼 점", "Flags"),
        "office_review_items" => ("항목", "Items"),
        "office_review_what" => ("한 일", "What was done"),
        "office_flag_many" => ("많은 회원", "Many members"),
        "office_flag_night" => ("야간", "At night"),
        "office_flag_no_request" => ("요청 없이 열람", "Read without a request"),
        "office_flag_refused" => ("거부된 시도", "Refused attempt"),
        "office_act_reveal" => ("열람", "Read"),
        "office_act_request_view" => ("요청 열기", "Request opened"),
        "office_act_request_file" => ("요청 기록", "Request recorded"),
        "office_act_request_work" => ("요청 처리", "Request worked"),
        "office_act_correct" => ("정정", "Correction"),
        "office_act_withdraw" => ("탈퇴 처리", "Withdrawal"),
        "office_act_suspend" => ("처리정지", "Processing stopped"),
        "office_act_consent" => ("동의 변경", "Consent changed"),
        "office_review_signoff" => ("점검 완료", "Sign-off"),
        "office_review_notes" => (
            "점검 의견 (표시된 기록이 있으면 무엇을 확인했는지 적어야 합니다)",
            "Notes (with flagged entries, write what you checked)",
        ),
        "office_review_sign" => ("점검을 마칩니다", "Sign the month off"),
        "office_review_signed" => ("이 달의 점검을 마쳤습니다.", "This month is signed off."),
        "office_review_signed_by" => (
            "{who}님이 {when}에 점검을 마쳤습니다.",
            "Signed off by {who} at {when}.",
        ),
        "office_review_not_ended" => (
            "이 달이 끝난 뒤 점검을 마칠 수 있습니다.",
            "This month can be signed off once it is over.",
        ),
        "office_review_past" => ("지난 점검", "Past reviews"),
        "office_dash_requests" => ("요청·불만 처리 현황", "Requests and complaints"),
        "office_dash_overdue" => ("기한 지남", "Overdue"),
        "office_dash_soon" => ("3일 안에 기한", "Due within 3 days"),
        "office_dash_open" => ("처리할 요청", "Open"),
        "office_dash_chart_title" => (
            "주별 접수 건수 (최근 8주)",
            "Received per week (last 8 weeks)",
        ),
        "office_dash_week" => ("주 (월요일)", "Week (Monday)"),
        "office_dash_rights" => ("권리 행사 요청", "Rights requests"),
        "office_dash_complaints" => ("의견·불만", "Complaints"),
        "office_dash_review_due" => (
            "{m} 접속기록 점검을 아직 마치지 않았습니다.",
            "The access-log review of {m} is not signed off yet.",
        ),
        "office_dash_last_review" => (
            "마지막 점검: {m} ({who}, {when})",
            "Last review: {m} ({who}, {when})",
        ),
        "office_dash_no_review" => (
            "아직 점검한 달이 없습니다.",
            "No month has been reviewed yet.",
        ),
        "office_password" => ("내 비밀번호 바꾸기", "Change my password"),
        "office_password_intro" => (
            "지금 비밀번호를 확인한 뒤 새 비밀번호로 바꿉니다. 다른 곳에서 로그인한 세션은 모두 끝납니다.",
            "Your current password is checked first. Every other session of yours ends.",
        ),
        "office_password_current" => ("지금 비밀번호", "Current password"),
        "office_password_new" => ("새 비밀번호", "New password"),
        "office_password_confirm" => ("새 비밀번호 확인", "New password again"),
        "office_password_button" => ("비밀번호 바꾸기", "Change password"),
        "office_password_mismatch" => (
            "새 비밀번호 확인: 두 번 입력한 비밀번호가 다릅니다",
            "New password again: the two passwords differ",
        ),
        "office_password_changed" => (
            "비밀번호를 바꿨습니다. 다른 세션은 모두 끝났습니다.",
            "Password changed. Every other session has ended.",
        ),
        "office_rq_done_recorded" => ("요청을 기록했습니다.", "The request is recorded."),
        "office_rq_conflict" => (
            "이미 처리를 마쳤거나 한 번 연장한 요청입니다. 화면을 새로 고쳐 지금 상태를 보세요.",
            "This request is already closed, or was already extended once. Reload to see where it stands.",
        ),
        _ => ("", ""),
    }
}

/// What a refusal by an abuse limit says: what was limited and how long to wait (whole minutes,
/// rounded up).
pub fn limited(lang: Lang, action: jikimi_core::Action, retry_after: i64) -> String {
    let t = T(lang);
    let what = match action {
        jikimi_core::Action::SignUp => t.s("limited_sign_up"),
        jikimi_core::Action::LoginIdCheck => t.s("limited_login_id_check"),
        jikimi_core::Action::IdentityRequest => t.s("limited_identity_request"),
        jikimi_core::Action::IdentityConfirm => t.s("limited_identity_confirm"),
        jikimi_core::Action::Login => t.s("limited_login"),
        jikimi_core::Action::LoginAccount => t.s("limited_login_account"),
        jikimi_core::Action::Reauth => t.s("limited_reauth"),
        jikimi_core::Action::ReceiptLookup => t.s("limited_receipt_lookup"),
        jikimi_core::Action::Complaint => t.s("limited_complaint"),
        jikimi_core::Action::Recovery => t.s("limited_recovery"),
    };
    let minutes = ((retry_after.max(1) + 59) / 60).to_string();
    let mut again = t.s("limited_again").replace("{n}", &minutes);
    if lang == Lang::En && minutes == "1" {
        again = again.replace("minutes", "minute");
    }
    format!("{what} {again}")
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn a_limit_says_what_and_how_long() {
        use jikimi_core::Action;
        let ko = super::limited(jikimi_policy::Lang::Ko, Action::IdentityRequest, 61);
        assert!(ko.contains("2분 뒤에 다시 시도해 주세요"), "{ko}");
        let en = super::limited(jikimi_policy::Lang::En, Action::Login, 30);
        assert!(en.contains("try again in 1 minute."), "{en}");
    }

    /// Every text a template or page asks for exists in both languages: a missing key would show
    /// an empty label.
    #[test]
    fn every_key_used_has_both_languages() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = vec![];
        for dir in [
            "templates",
            "src",
            "src/public",
            "src/signup",
            "src/account",
            "src/me",
            "src/leave",
            "src/office",
        ] {
            for entry in std::fs::read_dir(root.join(dir))
                .into_iter()
                .flatten()
                .flatten()
            {
                if entry.path().is_file() {
                    sources.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
        }
        let mut keys = 0;
        for src in &sources {
            for part in src.split("s(\"").skip(1) {
                let Some(key) = part.split('"').next() else {
                    continue;
                };
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    continue;
                }
                keys += 1;
                let (ko, en) = text(key);
                assert!(!ko.is_empty() && !en.is_empty(), "no text for {key:?}");
            }
        }
        assert!(keys > 100, "only {keys} keys found: the scan is broken");
    }
}
